//! Layers with hand-derived forward and backward passes, the optimiser,
//! initialisers and the finite-difference helpers that check them.

pub mod activation;
pub mod adam;
pub mod arch;
pub mod conv;
pub mod conv_geom;
pub mod conv_lanes;
pub mod conv_transpose;
pub mod dense;
#[cfg(test)]
pub mod gradcheck;
pub mod init;
pub mod loss;
pub mod mlp;
pub mod param;

pub use adam::Adam;
pub use conv::Conv2d;
pub use conv_transpose::ConvTranspose2d;
pub use dense::Dense;
pub use mlp::Mlp;
pub use param::{HasParams, Param};
