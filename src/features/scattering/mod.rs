//! The 2-D wavelet scattering transform (Bruna and Mallat; Kymatio's
//! definitions, which the subspace-clustering literature uses: EnSC and
//! SSC-OMP cluster MNIST on Kymatio's `Scattering2D(J=3)`).
//!
//! [`ScatteringParams`] are checked against an image size once
//! ([`ScatteringParams::check`]); [`scatter`] transforms a whole dataset,
//! images in parallel, each image's arithmetic in one fixed order, so the
//! output has the same bits under any thread count.

mod filters;
mod transform;

pub use transform::{padded_size, path_count};

use crate::data::Dataset;
use crate::error::{Result, UdllError};
use crate::progress::{Observer, Progress};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use transform::Plan;

/// Settings of the scattering transform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScatteringParams {
    /// The scale: outputs are subsampled by 2^J (1 ≤ J, 2^J ≤ each side).
    pub j: usize,
    /// Orientations of the wavelets (Kymatio's design is for 8).
    pub l: usize,
    /// The highest order: 1 or 2.
    pub order: usize,
}

impl Default for ScatteringParams {
    fn default() -> Self {
        ScatteringParams { j: 2, l: 8, order: 2 }
    }
}

/// The most orientations accepted: L² order-2 paths per pair of scales
/// grow fast, and Kymatio's filters are designed for L = 8.
pub const MAX_ORIENTATIONS: usize = 64;

impl ScatteringParams {
    /// Refuse settings the transform cannot apply to height × width images.
    pub fn check(&self, height: usize, width: usize) -> Result<()> {
        if self.j == 0 {
            return Err(UdllError::config("scattering: J must be at least 1"));
        }
        if self.j >= usize::BITS as usize - 1 || (1usize << self.j) > height.min(width) {
            return Err(UdllError::config(format!("scattering: 2^J = 2^{} is larger than the {height} × {width} images", self.j)));
        }
        if self.l == 0 || self.l > MAX_ORIENTATIONS {
            return Err(UdllError::config(format!("scattering: L must be in 1..={MAX_ORIENTATIONS}, got {}", self.l)));
        }
        if !(1..=2).contains(&self.order) {
            return Err(UdllError::config(format!("scattering: the order must be 1 or 2, got {}", self.order)));
        }
        Ok(())
    }

    /// Paths per input channel.
    pub fn paths(&self) -> usize {
        path_count(self.j, self.l, self.order)
    }

    /// The output's spatial size for height × width images.
    pub fn out_size(&self, height: usize, width: usize) -> (usize, usize) {
        ((padded_size(height, self.j) >> self.j) - 2, (padded_size(width, self.j) >> self.j) - 2)
    }

    /// A short description: "J = 2, L = 8, order 2".
    pub fn describe(&self) -> String {
        format!("J = {}, L = {}, order {}", self.j, self.l, self.order)
    }
}

/// The scattering of n images: for each image, channels × paths maps of
/// h × w (Kymatio's layout: channel, then path, then row, then column).
#[derive(Clone, Debug)]
pub struct ScatterMaps {
    /// Images.
    pub n: usize,
    /// Maps per image: input channels × paths.
    pub maps: usize,
    /// Map height.
    pub h: usize,
    /// Map width.
    pub w: usize,
    /// n × maps × h × w values.
    pub values: Vec<f32>,
}

impl ScatterMaps {
    /// Values per image.
    pub fn image_len(&self) -> usize {
        self.maps * self.h * self.w
    }
}

/// The scattering of height × width single-channel images given as f64
/// (row-major, image after image), as f64 (computed in single precision,
/// as Kymatio computes): its numbers, for tests against its outputs.
pub fn scatter_f64(images: &[f64], n: usize, height: usize, width: usize, p: &ScatteringParams) -> Result<Vec<f64>> {
    p.check(height, width)?;
    if images.len() != n * height * width {
        return Err(UdllError::shape(format!("scattering: {} values for {n} images of {height} × {width}", images.len())));
    }
    let plan = Plan::new(height, width, p.j, p.l, p.order);
    let mut out = vec![0.0; n * plan.out_len()];
    out.par_chunks_mut(plan.out_len()).zip(images.par_chunks(height * width)).for_each_init(|| plan.workspace(), |ws, (o, x)| plan.transform(x, o, ws));
    Ok(out)
}

/// Images per progress report and per parallel block.
const BLOCK: usize = 256;

/// The scattering of every image of `ds` (each channel on its own), as
/// f32 maps. The work is spread over the pool image by image; each
/// image's numbers do not depend on the spread.
pub fn scatter(ds: &Dataset, p: &ScatteringParams, observer: &dyn Observer) -> Result<ScatterMaps> {
    p.check(ds.height, ds.width)?;
    let (h, w, c) = (ds.height, ds.width, ds.channels);
    let plan = Plan::new(h, w, p.j, p.l, p.order);
    let per_channel = plan.out_len();
    let maps = c * plan.paths();
    let bytes = (ds.n as u64).checked_mul((maps * plan.out_h * plan.out_w) as u64).and_then(|v| v.checked_mul(4));
    crate::memory::check(bytes, &format!("the scattering of {} images ({maps} maps of {} × {} each)", ds.n, plan.out_h, plan.out_w))?;
    let mut values = vec![0f32; ds.n * c * per_channel];
    let progress = Progress::new("scattering", ds.n.div_ceil(BLOCK), observer);
    let img_len = ds.image_len();
    for (b, (out, pix)) in values.chunks_mut(BLOCK * c * per_channel).zip(ds.pixels.chunks(BLOCK * img_len)).enumerate() {
        out.par_chunks_mut(c * per_channel).zip(pix.par_chunks(img_len)).for_each_init(
            || (plan.workspace(), vec![0f64; h * w], vec![0f64; per_channel]),
            |(ws, plane, tmp), (o, x)| {
                for ch in 0..c {
                    for (v, px) in plane.iter_mut().zip(x.iter().skip(ch).step_by(c)) {
                        *v = f64::from(*px);
                    }
                    plan.transform(plane, tmp, ws);
                    for (d, s) in o[ch * per_channel..][..per_channel].iter_mut().zip(tmp.iter()) {
                        *d = *s as f32;
                    }
                }
            },
        );
        progress.update(b + 1, &format!("{} of {} images", ((b + 1) * BLOCK).min(ds.n), ds.n));
    }
    Ok(ScatterMaps { n: ds.n, maps, h: plan.out_h, w: plan.out_w, values })
}

#[cfg(test)]
mod tests;
