//! The state of one pool tag within one boot, advanced step by step.
//!
//! Outstanding allocations = a level (warm-up curve x daily cycle x log-normal AR(1) noise) plus the
//! leaked allocations so far. Allocs grow by the churn (allocations freed again) plus every rise of
//! the outstanding count; Frees = Allocs - outstanding, so both counters only ever rise, as the
//! kernel's do. poolmon shows the counters modulo 2^32 (they are 32-bit in the kernel: formats
//! reference §1.3 "Number hazards"), Diff = outstanding, Bytes = level bytes + leaked bytes.
//!
//! All randomness comes from the tag's own stream, derived from (seed, host, boot, tag), and every
//! dynamic is written in terms of the step length, so irregular sampling (loops drift, snapshots get
//! skipped) does not change the statistics.

use super::math;
use super::rng::Rng;
use super::scenario::TagSpec;

/// Correlation time of the allocation-size noise of variable-size tags, hours.
const SIZE_TAU_H: f64 = 1.5;

/// One row's numbers as poolmon prints them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowValues {
    /// Allocs, modulo 2^32.
    pub allocs: u64,
    /// Frees, modulo 2^32.
    pub frees: u64,
    /// Outstanding allocations.
    pub diff: u64,
    /// Bytes.
    pub bytes: u64,
    /// Bytes / Diff (0 when nothing is outstanding).
    pub per_alloc: u64,
}

/// A tag's evolving state.
#[derive(Debug, Clone)]
pub struct TagState {
    rng: Rng,
    level_noise: f64,
    size_noise: f64,
    /// True cumulative allocations this boot (not wrapped).
    allocs: u64,
    /// Outstanding allocations.
    outstanding: u64,
    /// Leaked allocations so far this boot.
    leaked: u64,
    /// Bytes currently allocated.
    bytes: u64,
}

/// The warm-up factor of a tag at `t_h` hours after boot.
pub fn warm_factor(spec: &TagSpec, t_h: f64) -> f64 {
    match spec.warmup {
        Some(w) if w.tau_h > 0.0 => w.from + (1.0 - w.from) * (1.0 - math::exp(-t_h.max(0.0) / w.tau_h)),
        _ => 1.0,
    }
}

/// The daily-cycle factor at local hour of day `hour` (peak mid-afternoon, trough at night).
pub fn daily_factor(amplitude: f64, hour: f64) -> f64 {
    1.0 + amplitude * math::sin(2.0 * std::f64::consts::PI * (hour - 9.0) / 24.0)
}

impl TagState {
    /// The state right after boot: the level at uptime 0 plus the allocations made while booting.
    pub fn new(spec: &TagSpec, mut rng: Rng, hour_of_day: f64) -> Self {
        let level_noise = rng.normal();
        let size_noise = rng.normal();
        let mut state = Self { rng, level_noise, size_noise, allocs: 0, outstanding: 0, leaked: 0, bytes: 0 };
        if spec.first_use_h <= 0.0 {
            let out = state.level(spec, 0.0, hour_of_day);
            // Booting churns through a few minutes' worth of allocations.
            let boot_churn = state.rng.poisson(spec.churn_per_hour * 0.05);
            state.outstanding = out;
            state.allocs = out + boot_churn;
            state.bytes = state.level_bytes(spec, out);
        }
        state
    }

    fn level(&self, spec: &TagSpec, t_h: f64, hour_of_day: f64) -> u64 {
        let mean = spec.base * warm_factor(spec, t_h) * daily_factor(spec.daily, hour_of_day);
        let sd = spec.noise;
        let level = mean * math::exp(sd * self.level_noise - 0.5 * sd * sd);
        if level <= 0.0 {
            0
        } else {
            (level + 0.5) as u64
        }
    }

    fn level_bytes(&self, spec: &TagSpec, count: u64) -> u64 {
        let factor = (1.0 + spec.size_spread * self.size_noise).max(0.3);
        let mean_size = f64::from(spec.per_alloc) * factor;
        (count as f64 * mean_size + 0.5) as u64
    }

    /// Advances the tag by `dt_h` hours to uptime `t_h`. `activity` (mean 1) scales leaks that follow
    /// the host's activity.
    pub fn step(&mut self, spec: &TagSpec, t_h: f64, dt_h: f64, hour_of_day: f64, activity: f64) {
        if t_h < spec.first_use_h || dt_h <= 0.0 {
            return;
        }
        // AR(1) noise with the tag's correlation time, whatever the step.
        let phi = math::exp(-dt_h / spec.noise_tau_h.max(1e-6));
        self.level_noise = phi * self.level_noise + (1.0 - phi * phi).sqrt() * self.rng.normal();
        if spec.size_spread > 0.0 {
            let phi = math::exp(-dt_h / SIZE_TAU_H);
            self.size_noise = phi * self.size_noise + (1.0 - phi * phi).sqrt() * self.rng.normal();
        }
        let mut leak_bytes = 0;
        if let Some(leak) = &spec.leak {
            let active = (t_h - leak.starts_after_h).clamp(0.0, dt_h);
            if active > 0.0 {
                let scale = if leak.follows_activity { activity } else { 1.0 };
                self.leaked += self.rng.poisson(leak.allocs_per_hour * active * scale);
            }
            leak_bytes = self.leaked * u64::from(leak.per_alloc_bytes);
        }
        let level = self.level(spec, t_h, hour_of_day);
        let out = level + self.leaked;
        let rise = out.saturating_sub(self.outstanding);
        let churn = self.rng.poisson(spec.churn_per_hour * dt_h);
        self.allocs += churn + rise;
        self.outstanding = out;
        self.bytes = self.level_bytes(spec, level) + leak_bytes;
    }

    /// The row poolmon prints, or `None` while the tag has never been allocated this boot.
    pub fn row(&self) -> Option<RowValues> {
        if self.allocs == 0 {
            return None;
        }
        let frees = self.allocs - self.outstanding;
        Some(RowValues {
            allocs: self.allocs & 0xFFFF_FFFF,
            frees: frees & 0xFFFF_FFFF,
            diff: self.outstanding & 0xFFFF_FFFF,
            bytes: self.bytes,
            per_alloc: self.bytes.checked_div(self.outstanding).unwrap_or(0),
        })
    }

    /// Bytes currently allocated under the tag.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Leaked allocations so far this boot.
    pub fn leaked(&self) -> u64 {
        self.leaked
    }

    /// True (unwrapped) cumulative allocations this boot.
    pub fn total_allocs(&self) -> u64 {
        self.allocs
    }
}

/// Counters of (tag, pool) rows merged per tag, in first-seen order, as `[nonpaged, paged]` (the debugger's and
/// PoolmonViz's one-row-per-tag tables).
pub fn merge_by_tag<'a, const N: usize>(
    rows: impl IntoIterator<Item = (&'a str, crate::model::PoolType, [u64; N])>,
) -> Vec<(&'a str, [[u64; N]; 2])> {
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut out: Vec<(&str, [[u64; N]; 2])> = Vec::new();
    for (tag, pool, values) in rows {
        let i = *index.entry(tag).or_insert_with(|| {
            out.push((tag, [[0; N]; 2]));
            out.len() - 1
        });
        let slot = &mut out[i].1[usize::from(pool == crate::model::PoolType::Paged)];
        for (sum, v) in slot.iter_mut().zip(values) {
            *sum += v;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PoolType;
    use crate::simulate::scenario::{LeakSpec, Warmup};

    fn spec() -> TagSpec {
        TagSpec {
            tag: "Test".into(),
            pool: PoolType::Paged,
            base: 10_000.0,
            per_alloc: 200,
            size_spread: 0.0,
            churn_per_hour: 1e6,
            noise: 0.05,
            noise_tau_h: 1.0,
            daily: 0.0,
            warmup: None,
            first_use_h: 0.0,
            leak: None,
        }
    }

    fn run(spec: &TagSpec, hours: f64, step_h: f64) -> Vec<RowValues> {
        let mut s = TagState::new(spec, Rng::new(5), 0.0);
        let mut rows = vec![s.row().unwrap()];
        let mut t = 0.0;
        while t < hours {
            t += step_h;
            s.step(spec, t, step_h, 0.0, 1.0);
            rows.push(s.row().unwrap());
        }
        rows
    }

    #[test]
    fn counters_rise_and_diff_is_allocs_minus_frees() {
        let rows = run(&spec(), 10.0, 1.0 / 60.0);
        for w in rows.windows(2) {
            assert!(w[1].allocs >= w[0].allocs && w[1].frees >= w[0].frees);
        }
        for r in &rows {
            assert_eq!(r.allocs.wrapping_sub(r.frees) & 0xFFFF_FFFF, r.diff);
            assert_eq!(r.bytes, r.diff * 200, "fixed-size tag");
            assert_eq!(r.per_alloc, 200);
        }
    }

    #[test]
    fn busy_counters_wrap_at_32_bits() {
        let mut s = spec();
        s.churn_per_hour = 1e9;
        let rows = run(&s, 6.0, 0.25);
        assert!(rows.windows(2).any(|w| w[1].allocs < w[0].allocs), "allocs should wrap");
        for r in &rows {
            assert!(r.allocs < 1 << 32 && r.frees < 1 << 32);
            assert_eq!(r.allocs.wrapping_sub(r.frees) & 0xFFFF_FFFF, r.diff);
        }
    }

    #[test]
    fn leak_adds_its_rate_on_top_of_the_level() {
        let mut s = spec();
        s.leak = Some(LeakSpec {
            allocs_per_hour: 15_700.0,
            per_alloc_bytes: 1664,
            starts_after_h: 1.0,
            driver: "x.sys".into(),
            follows_activity: false,
        });
        let mut state = TagState::new(&s, Rng::new(1), 0.0);
        let mut t = 0.0;
        while t < 51.0 - 1e-9 {
            t += 0.1;
            state.step(&s, t, 0.1, 0.0, 1.0);
        }
        let per_hour = state.leaked() as f64 / 50.0;
        assert!((per_hour - 15_700.0).abs() < 100.0, "{per_hour}");
        let row = state.row().unwrap();
        assert!(row.bytes >= state.leaked() * 1664);
    }

    #[test]
    fn warmup_rises_then_flattens() {
        let mut s = spec();
        s.noise = 0.0;
        s.warmup = Some(Warmup { from: 0.2, tau_h: 2.0 });
        let rows = run(&s, 24.0, 0.5);
        assert!(rows[0].diff < 2_500);
        assert!(rows[12].diff > 9_000, "{}", rows[12].diff);
        assert!(rows[48].diff.abs_diff(10_000) < 10);
    }

    #[test]
    fn tag_without_allocations_has_no_row_until_first_use() {
        let mut s = spec();
        s.first_use_h = 2.0;
        let mut state = TagState::new(&s, Rng::new(2), 0.0);
        assert!(state.row().is_none());
        state.step(&s, 1.0, 1.0, 0.0, 1.0);
        assert!(state.row().is_none());
        state.step(&s, 2.5, 1.5, 0.0, 1.0);
        assert!(state.row().is_some());
    }

    #[test]
    fn variable_size_tags_move_per_alloc() {
        let mut s = spec();
        s.size_spread = 0.2;
        let rows = run(&s, 48.0, 0.5);
        let min = rows.iter().map(|r| r.per_alloc).min().unwrap();
        let max = rows.iter().map(|r| r.per_alloc).max().unwrap();
        assert!(max > min + 10, "{min}..{max}");
    }
}
