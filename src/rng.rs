//! The crate's one random generator: xoshiro256** seeded through SplitMix64.
//!
//! Every consumer asks for a *named sub-stream* of the run seed
//! (`Rng::stream(seed, "init")`, `"shuffle"`, `"noise"`, `"kmeans"` ...), so
//! adding a random draw in one stage never shifts the numbers another stage
//! sees. Nothing here reads OS entropy or thread-local state.

#[derive(Clone, Debug)]
/// xoshiro256** seeded through SplitMix64: the same numbers on every machine.
pub struct Rng {
    s: [u64; 4],
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// FNV-1a of the stream name: a stable, platform-independent tag.
fn name_tag(name: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.as_bytes() {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h
}

impl Rng {
    /// A generator from a raw 64-bit seed.
    pub fn from_seed(seed: u64) -> Self {
        let mut st = seed;
        let s = [splitmix64(&mut st), splitmix64(&mut st), splitmix64(&mut st), splitmix64(&mut st)];
        Rng { s }
    }

    /// The named sub-stream `name` of run seed `seed`.
    pub fn stream(seed: u64, name: &str) -> Self {
        let mut st = seed ^ name_tag(name).rotate_left(17);
        let mixed = splitmix64(&mut st) ^ name_tag(name);
        Rng::from_seed(mixed)
    }

    /// A child stream, e.g. one per layer or per restart.
    pub fn substream(&self, name: &str, index: u64) -> Self {
        let mut st = self.s[0] ^ name_tag(name) ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        Rng::from_seed(splitmix64(&mut st) ^ self.s[3])
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn uniform_range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }

    /// Uniform integer in [0, n) (n > 0), without modulo bias.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        let n = n as u64;
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return (v % n) as usize;
            }
        }
    }

    /// Standard normal by Box–Muller (one value per call; the pair's second
    /// half is dropped so the stream position is simple to reason about).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform(); // (0, 1]
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `m` of the indices 0..n without replacement (the first `m` of a
    /// shuffle), in increasing order.
    pub fn sorted_sample(&mut self, n: usize, m: usize) -> Vec<usize> {
        let mut idx: Vec<usize> = (0..n).collect();
        self.shuffle(&mut idx);
        idx.truncate(m);
        idx.sort_unstable();
        idx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(7, "init").next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Rng::stream(7, "init");
        let mut y = Rng::stream(7, "shuffle");
        let mut z = Rng::stream(8, "init");
        let vx: Vec<u64> = (0..8).map(|_| x.next_u64()).collect();
        let vy: Vec<u64> = (0..8).map(|_| y.next_u64()).collect();
        let vz: Vec<u64> = (0..8).map(|_| z.next_u64()).collect();
        assert_ne!(vx, vy);
        assert_ne!(vx, vz);
    }

    #[test]
    fn uniform_and_normal_moments() {
        let mut r = Rng::stream(1, "moments");
        let n = 200_000;
        let (mut su, mut sn, mut sn2) = (0.0, 0.0, 0.0);
        for _ in 0..n {
            let u = r.uniform();
            assert!((0.0..1.0).contains(&u));
            su += u;
            let g = r.normal();
            sn += g;
            sn2 += g * g;
        }
        assert!((su / n as f64 - 0.5).abs() < 0.01);
        assert!((sn / n as f64).abs() < 0.01);
        assert!((sn2 / n as f64 - 1.0).abs() < 0.02);
    }

    #[test]
    fn below_covers_range() {
        let mut r = Rng::stream(3, "below");
        let mut seen = [0usize; 7];
        for _ in 0..7000 {
            seen[r.below(7)] += 1;
        }
        assert!(seen.iter().all(|&c| c > 800));
    }
}
