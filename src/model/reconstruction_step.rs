//! One reconstruction step of the convolutional autoencoder (pretraining's
//! ½‖X − g(f(X̃))‖², optionally + λ‖f(X̃)‖₁), fused per lane block.
//!
//! The layer-by-layer path ([`ConvAutoencoder::encode`] …
//! [`ConvAutoencoder::backward_encoder`]) runs each layer over the whole
//! batch: about fifteen parallel regions and as many batch-sized buffers per
//! step. Pretraining's steps are small (64 images, 8 blocks), so those
//! costs rivalled the arithmetic. Here each block of [`LANES`] images goes
//! through encoder, decoder, loss and back in one task, with its
//! activations in a workspace reused across blocks and steps: one parallel
//! region per step.
//!
//! Determinism: every block's loss and per-lane gradient partials are
//! computed in a fixed order, and the partials are added to the
//! parameters' gradients in block order, whatever thread ran them.

use crate::linalg::Real;
use crate::linalg::simd::{has_avx2, with_best_simd};
use crate::model::autoencoder::ConvAutoencoder;
use crate::nn::HasParams;
use crate::nn::conv_lanes::{GatherOut, LANES, LaneConv, add_bias_block, add_bias_grad_block, add_lane_sums, blocks, mask_into};
use rayon::prelude::*;
use std::sync::Mutex;

/// One block's activations and their gradients, sized for the network;
/// every buffer keeps its size, so reusing the workspace for the next
/// block costs nothing.
struct Workspace<T> {
    /// Output of each encoder layer (after its ReLU), and the gradient there.
    enc: Vec<Vec<T>>,
    enc_grad: Vec<Vec<T>>,
    /// Output of each decoder layer (after its ReLU, if any), and the
    /// gradient there.
    dec: Vec<Vec<T>>,
    dec_grad: Vec<Vec<T>>,
    /// An encoder layer's input gradient before its ReLU mask.
    unmasked: Vec<T>,
}

/// Loss and per-lane parameter-gradient partials of one block, in the
/// order of [`HasParams::params`].
struct BlockResult<T> {
    loss: f64,
    grads: Vec<Vec<T>>,
}

/// Block workspaces kept from one step to the next (a training loop holds
/// one): allocating and zeroing them afresh each step cost about 15 % of
/// a COIL-20 pretraining step, in memory traffic.
#[derive(Default)]
pub struct Workspaces<T> {
    free: Mutex<Vec<Workspace<T>>>,
}

/// A workspace on loan from [`Workspaces`], given back when dropped.
struct Lease<'a, T> {
    ws: Option<Workspace<T>>,
    pool: &'a Workspaces<T>,
}

impl<T> Drop for Lease<'_, T> {
    fn drop(&mut self) {
        if let (Some(ws), Ok(mut free)) = (self.ws.take(), self.pool.free.lock()) {
            free.push(ws);
        }
    }
}

/// ½ Σ ‖x̂ − target‖² (+ λ Σ |z| when `sparse` > 0) over the n images of
/// the lane-blocked `input` (what the encoder sees) and `target` (what the
/// decoder should give back); adds the gradients to the autoencoder's
/// parameters (as a backward pass does) and returns the loss. Padding lanes
/// of the last block contribute nothing. Workspaces come from `pool`.
pub fn reconstruction_step<T: Real>(ae: &mut ConvAutoencoder<T>, input: &[T], target: &[T], n: usize, sparse: f64, pool: &Workspaces<T>) -> f64 {
    let block_len = ae.arch.input_len() * LANES;
    assert_eq!(input.len(), blocks(n) * block_len, "reconstruction step: input size");
    assert_eq!(target.len(), input.len(), "reconstruction step: target size");
    let results: Vec<BlockResult<T>> = {
        let enc: Vec<LaneConv<T>> = ae.encoder.iter().map(|c| c.kernels()).collect();
        let dec: Vec<LaneConv<T>> = ae.decoder.iter().map(|t| t.kernels()).collect();
        let net = Net { ae: &*ae, enc: &enc, dec: &dec, sparse: T::from_f64(sparse) };
        let avx2 = has_avx2();
        (0..blocks(n))
            .into_par_iter()
            .map_init(
                || net.lease(pool),
                |lease, b| {
                    let valid = (n - b * LANES).min(LANES);
                    let (x, t) = (&input[b * block_len..][..block_len], &target[b * block_len..][..block_len]);
                    let ws = lease.ws.as_mut().expect("leased");
                    with_best_simd(
                        avx2,
                        #[inline(always)]
                        || net.block(x, t, valid, ws),
                    )
                },
            )
            .collect()
    };
    let mut loss = 0.0;
    let mut params = ae.params_mut();
    for r in &results {
        loss += r.loss;
        for (p, acc) in params.iter_mut().zip(&r.grads) {
            add_lane_sums(acc, &mut p.grad);
        }
    }
    loss
}

/// The network as the block kernels see it.
struct Net<'a, T: Real> {
    ae: &'a ConvAutoencoder<T>,
    enc: &'a [LaneConv<'a, T>],
    dec: &'a [LaneConv<'a, T>],
    sparse: T,
}

impl<T: Real> Net<'_, T> {
    /// A workspace for this network from `pool`, or a new one (every
    /// buffer is written before it is read, so a used one is as good).
    fn lease<'p>(&self, pool: &'p Workspaces<T>) -> Lease<'p, T> {
        let enc_lens: Vec<usize> = self.enc.iter().map(|c| c.small_len()).collect();
        let dec_lens: Vec<usize> = self.dec.iter().map(|c| c.big_len()).collect();
        let fits = |ws: &Workspace<T>| ws.enc.iter().map(Vec::len).eq(enc_lens.iter().copied()) && ws.dec.iter().map(Vec::len).eq(dec_lens.iter().copied());
        let reused = pool.free.lock().ok().and_then(|mut free| free.pop()).filter(fits);
        let ws = reused.unwrap_or_else(|| {
            let enc: Vec<Vec<T>> = enc_lens.iter().map(|&n| vec![T::ZERO; n]).collect();
            let dec: Vec<Vec<T>> = dec_lens.iter().map(|&n| vec![T::ZERO; n]).collect();
            Workspace { enc_grad: enc.clone(), enc, dec_grad: dec.clone(), dec, unmasked: Vec::new() }
        });
        Lease { ws: Some(ws), pool }
    }

    /// Whether decoder layer j is followed by a ReLU.
    fn dec_relu(&self, j: usize) -> bool {
        j + 1 < self.dec.len() || self.ae.arch.final_relu
    }

    /// Forward and backward of one block with `valid` real images (inlined
    /// into the caller's instruction-set dispatch, as the kernels are).
    #[inline(always)]
    fn block(&self, input: &[T], target: &[T], valid: usize, ws: &mut Workspace<T>) -> BlockResult<T> {
        let (ae, l) = (self.ae, self.enc.len());
        for i in 0..l {
            let (done, rest) = ws.enc.split_at_mut(i);
            let x = if i == 0 { input } else { &done[i - 1] };
            self.enc[i].gather_block(Some(&ae.encoder[i].bias.value), x, &mut rest[0], GatherOut::Relu);
        }
        for j in 0..l {
            let (done, rest) = ws.dec.split_at_mut(j);
            let z = if j == 0 { &ws.enc[l - 1] } else { &done[j - 1] };
            let y = &mut rest[0];
            y.fill(T::ZERO);
            self.dec[j].scatter_block(z, y);
            add_bias_block(y, &ae.decoder[j].bias.value, self.dec_relu(j));
        }

        // dL/dx̂ = x̂ − target on the valid lanes, 0 on padding lanes; the
        // loss summed per lane (independent chains), then over the lanes.
        // The gradient leaving is masked by the last ReLU, if any.
        let (out, g_out) = (&ws.dec[l - 1], &mut ws.dec_grad[l - 1]);
        let per_lane =
            if self.dec_relu(l - 1) { loss_and_grad::<T, true>(out, target, valid, g_out) } else { loss_and_grad::<T, false>(out, target, valid, g_out) };
        let mut loss = 0.5 * per_lane.iter().sum::<f64>();

        // Parameters are encoder (weight, bias) per layer, then decoder's.
        // Each layer's output gradient is already through its ReLU: the
        // input gradient a gather returns is masked in the kernel by the
        // ReLU output feeding the layer.
        let mut grads: Vec<Vec<T>> = ae.params().iter().map(|p| vec![T::ZERO; p.len() * LANES]).collect();
        let (enc_grads, dec_grads) = grads.split_at_mut(2 * l);
        for j in (0..l).rev() {
            let (done, rest) = ws.dec_grad.split_at_mut(j);
            let dy = &rest[0];
            let (z, dz) = if j == 0 { (&ws.enc[l - 1], &mut ws.enc_grad[l - 1]) } else { (&ws.dec[j - 1], &mut done[j - 1]) };
            let [dw, db] = &mut dec_grads[2 * j..2 * j + 2] else { unreachable!() };
            add_bias_grad_block(dy, ae.decoder[j].c_out(), db);
            self.dec[j].filter_grad_block(dy, z, dw);
            self.dec[j].gather_block(None, dy, dz, GatherOut::MaskedBy(z));
        }

        // The sparse code's λ‖z‖₁: its gradient is λ where z > 0, where the
        // ReLU mask passes it anyway.
        if self.sparse > T::ZERO {
            for (k, (g, &z)) in ws.enc_grad[l - 1].iter_mut().zip(&ws.enc[l - 1]).enumerate() {
                if k % LANES < valid && z > T::ZERO {
                    loss += self.sparse.to_f64() * z.to_f64();
                    *g += self.sparse;
                }
            }
        }

        for i in (0..l).rev() {
            let (done, rest) = ws.enc_grad.split_at_mut(i);
            let dy = &rest[0];
            let x = if i == 0 { input } else { &ws.enc[i - 1] };
            let [dw, db] = &mut enc_grads[2 * i..2 * i + 2] else { unreachable!() };
            add_bias_grad_block(dy, ae.encoder[i].c_out, db);
            self.enc[i].filter_grad_block(x, dy, dw);
            if i > 0 {
                ws.unmasked.clear();
                ws.unmasked.resize(self.enc[i].big_len(), T::ZERO);
                self.enc[i].scatter_block(dy, &mut ws.unmasked);
                mask_into(&ws.unmasked, x, &mut done[i - 1]);
            }
        }
        BlockResult { loss, grads }
    }
}

/// Σ (x̂ − target)² per lane over a block's valid lanes, in f64, and
/// dL/dx̂ = x̂ − target there (0 on padding lanes), masked by the last
/// ReLU when `RELU`. Whole lanes at a time, with the ReLU choice out of
/// the loop, so it compiles to vector code (per value it had compiled to
/// scalar f64 code).
#[inline(always)]
fn loss_and_grad<T: Real, const RELU: bool>(out: &[T], target: &[T], valid: usize, g_out: &mut [T]) -> [f64; LANES] {
    let live: [bool; LANES] = std::array::from_fn(|l| l < valid);
    let mut per_lane = [0.0f64; LANES];
    for ((g, y), t) in g_out.chunks_exact_mut(LANES).zip(out.chunks_exact(LANES)).zip(target.chunks_exact(LANES)) {
        let (y, t): (&[T; LANES], &[T; LANES]) = (y.try_into().unwrap(), t.try_into().unwrap());
        let d: [T; LANES] = std::array::from_fn(|l| if live[l] { y[l] - t[l] } else { T::ZERO });
        for l in 0..LANES {
            per_lane[l] += d[l].to_f64() * d[l].to_f64();
        }
        let gv: [T; LANES] = std::array::from_fn(|l| if !RELU || y[l] > T::ZERO { d[l] } else { T::ZERO });
        g.copy_from_slice(&gv);
    }
    per_lane
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::autoencoder::AeArch;
    use crate::model::regularizers::sparse_l1;
    use crate::nn::conv_lanes::to_lanes;
    use crate::nn::gradcheck::{check_gradient, random_fill};
    use crate::nn::loss::squared_error;
    use crate::rng::Rng;

    /// A two-layer autoencoder with random weights and biases, and 11
    /// images (a partial last block) of input and a different target.
    fn setup(final_relu: bool) -> (ConvAutoencoder<f64>, Vec<f64>, Vec<f64>, usize) {
        let arch = AeArch { height: 9, width: 7, channels_in: 1, channels: vec![3, 2], kernels: vec![3, 3], final_relu };
        let mut ae = ConvAutoencoder::<f64>::new(&arch).unwrap();
        let mut rng = Rng::stream(5, "fused-step");
        for p in ae.params_mut() {
            random_fill(&mut p.value, &mut rng);
        }
        let n = 11;
        let mut x = vec![0.0; n * arch.input_len()];
        let mut t = vec![0.0; x.len()];
        random_fill(&mut x, &mut rng);
        random_fill(&mut t, &mut rng);
        x.iter_mut().for_each(|v| *v = v.abs());
        (ae, x, t, n)
    }

    fn grads(ae: &ConvAutoencoder<f64>) -> Vec<Vec<f64>> {
        ae.params().iter().map(|p| p.grad.clone()).collect()
    }

    /// The fused step gives the loss and gradients of the layer-by-layer
    /// path (encode, decode, squared error, sparse penalty, backward).
    #[test]
    fn matches_the_layer_by_layer_path() {
        for (final_relu, lambda) in [(true, 0.0), (true, 0.3), (false, 0.3)] {
            let (mut ae, x, t, n) = setup(final_relu);
            ae.zero_grad();
            let z = ae.encode(&x, n);
            let r = ae.decode(&z, n);
            let (mut want_loss, g) = squared_error(&r, &t, 0.5);
            let mut dz = ae.backward_decoder(&g);
            if lambda > 0.0 {
                let (p, gs) = sparse_l1(&z, lambda);
                want_loss += p;
                dz.iter_mut().zip(gs).for_each(|(a, b)| *a += b);
            }
            ae.backward_encoder(&dz, false);
            let want = grads(&ae);

            ae.zero_grad();
            let per = ae.arch.input_len();
            let loss = reconstruction_step(&mut ae, &to_lanes(&x, n, per), &to_lanes(&t, n, per), n, lambda, &Workspaces::default());
            assert!((loss - want_loss).abs() < 1e-10 * want_loss, "loss {loss} vs {want_loss}");
            for (p, (got, want)) in ae.params().iter().zip(grads(&ae).iter().zip(&want)) {
                for (a, b) in got.iter().zip(want) {
                    assert!((a - b).abs() < 1e-10 * (1.0 + b.abs()), "{}: {a} vs {b} (final ReLU {final_relu}, λ {lambda})", p.name);
                }
            }
        }
    }

    /// Every parameter gradient of the fused step is the derivative of the
    /// loss it returns.
    #[test]
    fn gradient_matches_finite_differences() {
        let (mut ae, x, t, n) = setup(true);
        let per = ae.arch.input_len();
        let (xl, tl) = (to_lanes(&x, n, per), to_lanes(&t, n, per));
        ae.zero_grad();
        let pool = Workspaces::default();
        reconstruction_step(&mut ae, &xl, &tl, n, 0.2, &pool);
        // Taken before any difference: each call adds to the gradients.
        for (pi, grad) in grads(&ae).into_iter().enumerate() {
            let (theta, name) = (ae.params()[pi].value.clone(), ae.params()[pi].name.clone());
            let mut f = |th: &[f64]| {
                ae.params_mut()[pi].value.copy_from_slice(th);
                reconstruction_step(&mut ae, &xl, &tl, n, 0.2, &pool)
            };
            check_gradient(&mut f, &theta, &grad, 1e-6, 1e-5, &format!("fused step: d/d{name}"));
            ae.params_mut()[pi].value.copy_from_slice(&theta);
        }
    }
}
