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

/// Whether a training loss (pretraining's or fine-tuning's) of `now`, after
/// a start of `first`, means the training diverged: more than a thousand
/// times its start. The presets' losses
/// never rise above their first epoch (COIL-20, ORL, the synthetic and
/// reference runs: max / first = 1.000), and `--lr 1e9` reaches 1e13 times
/// it, so the margin is wide on both sides.
pub(crate) fn diverged(first: f64, now: f64) -> bool {
    now > 1e3 * first.abs()
}
