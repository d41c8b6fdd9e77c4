//! UDLL (Chen et al., JEI 2019) and DSC (Ji et al., NIPS 2017): their
//! params and the self-expressive fine-tuning. The pipeline that chains
//! pretraining, the prior graph, fine-tuning and clustering is
//! `app::pipeline`.

pub mod finetune;
pub mod params;

pub use params::{FinetuneConfig, Method, UdllParams, ValidUdllParams};
