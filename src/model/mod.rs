//! Models: the convolutional autoencoder and its pretraining, the
//! self-expressive layer and the UDLL / DSC fine-tuning.

pub mod ame_ae;
pub mod autoencoder;
pub mod dense_ae;
pub mod grdnn;
pub mod pretrain;
pub mod reconstruction_step;
pub mod reference;
pub mod regularizers;
pub mod self_expressive;
pub mod udll;
