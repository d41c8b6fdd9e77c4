//! UDLL (Chen et al., JEI 2019) and DSC (Ji et al., NIPS 2017):
//! hyper-parameters, the fine-tuning algorithm and the end-to-end pipeline.

pub mod finetune;
pub mod hyperparams;
pub mod pipeline;

pub use crate::cluster::{LabelAssign, PostConfig};
pub use crate::model::self_expressive::CoefRegularizer;
pub use hyperparams::{FinetuneConfig, Method, UdllConfig};
