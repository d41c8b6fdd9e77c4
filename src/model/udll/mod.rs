//! UDLL (Chen et al., JEI 2019) and DSC (Ji et al., NIPS 2017):
//! hyper-parameters, the fine-tuning algorithm and the end-to-end pipeline.

pub mod finetune;
pub mod hyperparams;
pub mod pipeline;

pub use hyperparams::{CoefRegularizer, FinetuneConfig, LabelAssign, Method, PostConfig, UdllConfig};
