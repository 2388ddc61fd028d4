//! Background pool tags: the hundreds of tags every Windows server shows that have nothing to do with
//! the incident. Well-known tags come first (with sizes and traffic of the right order for a small
//! server), then generated names fill up to the requested count.
//!
//! Shapes: most tags wander around a level (log-normal AR(1) noise); a few busy ones (`Irp `, `Mdl `)
//! churn fast enough for their 32-bit Allocs/Frees counters to wrap within a few days; caches
//! (`MmSt`, `CM31`, `FMfn`, `Ntff`, `CM25`) fill over the first hours after boot and then level off,
//! which is what fools a straight-line fit on young data (ANALYSIS.md §4).

use crate::model::PoolType;
use crate::simulate::rng::Rng;
use crate::simulate::scenario::{TagSpec, Warmup};

use PoolType::{Nonpaged as N, Paged as P};

/// How much pool a host's background tags hold once warmed up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolBudget {
    /// Paged bytes of the steady (non-cache) tags.
    pub paged_bytes: f64,
    /// Paged bytes the caches level off at, together.
    pub cache_bytes: f64,
    /// Nonpaged bytes.
    pub nonpaged_bytes: f64,
    /// Scale of the allocation traffic (1 for a small server).
    pub traffic: f64,
}

/// A well-known steady tag: (tag, pool, share of its pool's budget, per alloc, size spread,
/// churn per hour, noise).
type Known = (&'static str, PoolType, f64, u32, f64, f64, f64);

/// Well-known steady tags, most important first (kept when `--tags` asks for few).
const KNOWN: [Known; 62] = [
    ("Toke", P, 0.030, 1450, 0.10, 40_000.0, 0.05),
    ("Irp ", N, 0.020, 460, 0.30, 60_000_000.0, 0.15),
    ("File", N, 0.060, 400, 0.05, 3_000_000.0, 0.05),
    ("EtwB", N, 0.100, 65_536, 0.25, 300.0, 0.05),
    ("Key ", P, 0.020, 208, 0.0, 400_000.0, 0.03),
    ("Thre", N, 0.050, 1232, 0.0, 40_000.0, 0.03),
    ("Proc", N, 0.015, 1200, 0.0, 3_000.0, 0.03),
    ("Even", N, 0.040, 80, 0.0, 800_000.0, 0.03),
    ("Mdl ", N, 0.010, 300, 0.40, 52_000_000.0, 0.20),
    ("Ntfx", N, 0.050, 300, 0.10, 1_000_000.0, 0.05),
    ("ObNm", P, 0.035, 160, 0.25, 90_000.0, 0.04),
    ("Obtb", P, 0.030, 4096, 0.30, 2_000.0, 0.03),
    ("SeAt", P, 0.015, 200, 0.05, 60_000.0, 0.05),
    ("Se  ", P, 0.020, 128, 0.15, 150_000.0, 0.05),
    ("IoNm", P, 0.025, 220, 0.25, 3_000_000.0, 0.08),
    ("CMDa", P, 0.040, 180, 0.30, 200_000.0, 0.03),
    ("CMVa", P, 0.030, 900, 0.30, 150_000.0, 0.03),
    ("CMAl", P, 0.060, 4096, 0.0, 500.0, 0.02),
    ("NtFs", P, 0.040, 600, 0.30, 500_000.0, 0.06),
    ("MmCa", N, 0.060, 150, 0.10, 1_500_000.0, 0.04),
    ("MmCi", N, 0.050, 950, 0.20, 10_000.0, 0.03),
    ("Vad ", N, 0.020, 64, 0.0, 2_000_000.0, 0.04),
    ("Mm  ", N, 0.040, 4096, 0.25, 3_000.0, 0.05),
    ("Gh05", P, 0.030, 700, 0.40, 20_000.0, 0.05),
    ("Gpbm", P, 0.020, 2048, 0.40, 8_000.0, 0.08),
    ("File", P, 0.004, 66, 0.20, 50_000.0, 0.05),
    ("AlMs", P, 0.010, 400, 0.10, 250_000.0, 0.10),
    ("CMNb", P, 0.020, 64, 0.20, 20_000.0, 0.03),
    ("Ntfo", P, 0.015, 350, 0.10, 100_000.0, 0.05),
    ("Ntfn", P, 0.010, 1024, 0.10, 40_000.0, 0.06),
    ("FMfc", P, 0.010, 160, 0.0, 300_000.0, 0.05),
    ("FIcs", P, 0.008, 160, 0.0, 300_000.0, 0.05),
    ("Gla5", P, 0.008, 192, 0.0, 15_000.0, 0.05),
    ("Uspi", P, 0.006, 128, 0.0, 5_000.0, 0.05),
    ("Ustx", P, 0.005, 64, 0.20, 60_000.0, 0.10),
    ("Dh 1", P, 0.002, 112, 0.0, 1_000.0, 0.05),
    ("Mmdi", P, 0.010, 600, 0.30, 5_000.0, 0.03),
    ("Pp  ", P, 0.010, 300, 0.30, 20_000.0, 0.03),
    ("WmiG", P, 0.003, 200, 0.0, 2_000.0, 0.03),
    ("ObSq", P, 0.012, 112, 0.0, 30_000.0, 0.05),
    ("Ntfr", N, 0.010, 1024, 0.20, 200_000.0, 0.06),
    ("VadS", N, 0.010, 80, 0.0, 500_000.0, 0.04),
    ("Io  ", N, 0.008, 128, 0.30, 400_000.0, 0.08),
    ("Sema", N, 0.006, 72, 0.0, 100_000.0, 0.04),
    ("Muta", N, 0.004, 80, 0.0, 30_000.0, 0.04),
    ("Time", N, 0.004, 120, 0.0, 200_000.0, 0.06),
    ("TcpE", N, 0.015, 320, 0.0, 300_000.0, 0.10),
    ("TcpL", N, 0.004, 200, 0.0, 5_000.0, 0.05),
    ("TcpW", N, 0.008, 256, 0.0, 500_000.0, 0.15),
    ("AfdE", N, 0.006, 720, 0.0, 300_000.0, 0.10),
    ("AfdB", N, 0.008, 1536, 0.20, 400_000.0, 0.12),
    ("NDnd", N, 0.020, 4096, 0.30, 20_000.0, 0.03),
    ("IPmg", N, 0.005, 1024, 0.10, 60_000.0, 0.05),
    ("Devi", N, 0.008, 400, 0.20, 50.0, 0.01),
    ("Driv", N, 0.004, 600, 0.20, 10.0, 0.01),
    ("Cont", N, 0.030, 8192, 0.30, 100.0, 0.02),
    ("CcSc", N, 0.010, 400, 0.10, 200_000.0, 0.05),
    ("CcBc", N, 0.006, 200, 0.0, 500_000.0, 0.08),
    ("FMsl", N, 0.008, 200, 0.0, 2_000_000.0, 0.06),
    ("ALPC", N, 0.010, 500, 0.30, 400_000.0, 0.06),
    ("Wait", N, 0.005, 96, 0.0, 800_000.0, 0.05),
    ("WfpF", N, 0.010, 300, 0.20, 300_000.0, 0.08),
];

/// Caches that fill after boot: (tag, share of the cache budget, per alloc, size spread, from, tau hours).
const CACHES: [(&str, f64, u32, f64, f64, f64); 5] = [
    ("MmSt", 0.40, 1186, 0.15, 0.05, 3.0),
    ("CM31", 0.25, 4096, 0.0, 0.04, 2.0),
    ("FMfn", 0.12, 557, 0.20, 0.08, 2.5),
    ("Ntff", 0.13, 1024, 0.0, 0.06, 1.5),
    ("CM25", 0.10, 4096, 0.0, 0.05, 3.5),
];

/// Prefixes in the style of real tags, for generated names.
const PREFIXES: [&str; 40] = [
    "Cc", "Cm", "Fl", "Fs", "Io", "Ip", "Nb", "Nd", "Np", "Ob", "Ps", "Sm", "Tc", "Ud", "Vi", "Wf", "Wm", "Us", "Gl",
    "Gd", "Ke", "Lr", "Mu", "Rx", "Sr", "Hv", "Dx", "Vm", "Vs", "St", "Sc", "Ks", "Rt", "Ar", "Ac", "Cl", "Ec", "Hd",
    "Pc", "Ws",
];

const NAME_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

const SIZES: [u32; 12] = [32, 48, 64, 96, 128, 160, 256, 384, 512, 1024, 2048, 4096];

/// The cache tags' names (`MmSt`, `CM31`, ...): scenarios list them as non-leaks.
pub fn cache_tags() -> impl Iterator<Item = &'static str> {
    CACHES.iter().map(|c| c.0)
}

/// `count` background tags for a host (`count` includes the caches and the well-known tags, which
/// come first). Generated names never collide with known ones or with `reserved` (the scenario's own
/// tags).
pub fn background_tags(rng: &mut Rng, count: usize, budget: &PoolBudget, reserved: &[&str]) -> Vec<TagSpec> {
    let mut tags = Vec::with_capacity(count);
    for &(tag, share, per_alloc, spread, from, tau_h) in CACHES.iter().take(count) {
        let bytes = budget.cache_bytes * share;
        tags.push(TagSpec {
            tag: tag.to_owned(),
            pool: P,
            base: bytes / f64::from(per_alloc),
            per_alloc,
            size_spread: spread,
            churn_per_hour: 50_000.0 * budget.traffic,
            noise: 0.02,
            noise_tau_h: 2.0,
            daily: 0.0,
            warmup: Some(Warmup { from, tau_h }),
            first_use_h: 0.0,
            leak: None,
        });
    }
    let known = count.saturating_sub(tags.len()).min(KNOWN.len());
    let generated = count.saturating_sub(tags.len() + known);
    // Generated tags hold 15% of each pool's budget; the known tags share the rest.
    let known_part = if generated > 0 { 0.85 } else { 1.0 };
    let share_sum = |pool: PoolType| -> f64 { KNOWN[..known].iter().filter(|k| k.1 == pool).map(|k| k.2).sum() };
    let (paged_sum, nonpaged_sum) = (share_sum(P).max(1e-9), share_sum(N).max(1e-9));
    for &(tag, pool, share, per_alloc, spread, churn, noise) in &KNOWN[..known] {
        let (budget_bytes, sum) = match pool {
            P => (budget.paged_bytes, paged_sum),
            N => (budget.nonpaged_bytes, nonpaged_sum),
        };
        let bytes = budget_bytes * known_part * share / sum;
        tags.push(TagSpec {
            tag: tag.to_owned(),
            pool,
            base: bytes / f64::from(per_alloc),
            per_alloc,
            size_spread: spread,
            churn_per_hour: churn * budget.traffic,
            noise,
            noise_tau_h: 0.3 + 1.5 * rng.uniform(),
            daily: if rng.chance(0.15) { 0.01 + 0.02 * rng.uniform() } else { 0.0 },
            warmup: None,
            first_use_h: 0.0,
            leak: None,
        });
    }
    tags.extend(generated_tags(rng, generated, budget, reserved, &tags));
    tags
}

/// Tags with made-up names that share 15% of each pool's budget with log-normal weights.
fn generated_tags(
    rng: &mut Rng,
    count: usize,
    budget: &PoolBudget,
    reserved: &[&str],
    taken: &[TagSpec],
) -> Vec<TagSpec> {
    let mut names: Vec<String> =
        taken.iter().map(|t| t.tag.clone()).chain(reserved.iter().map(|r| (*r).to_owned())).collect();
    let mut draft = Vec::with_capacity(count);
    for _ in 0..count {
        let name = loop {
            let mut name = PREFIXES[rng.below(PREFIXES.len() as u64) as usize].to_owned();
            for _ in 0..2 {
                name.push(char::from(NAME_CHARS[rng.below(NAME_CHARS.len() as u64) as usize]));
            }
            if !names.contains(&name) {
                break name;
            }
        };
        names.push(name.clone());
        let pool = if rng.chance(0.6) { P } else { N };
        let weight = crate::simulate::math::exp(1.5 * rng.normal());
        draft.push((name, pool, weight));
    }
    let weight_sum =
        |pool: PoolType| -> f64 { draft.iter().filter(|d| d.1 == pool).map(|d| d.2).sum::<f64>().max(1e-9) };
    let (paged_w, nonpaged_w) = (weight_sum(P), weight_sum(N));
    draft
        .into_iter()
        .map(|(tag, pool, weight)| {
            let bytes = match pool {
                P => 0.15 * budget.paged_bytes * weight / paged_w,
                N => 0.15 * budget.nonpaged_bytes * weight / nonpaged_w,
            };
            let per_alloc = SIZES[rng.below(SIZES.len() as u64) as usize];
            TagSpec {
                tag,
                pool,
                base: bytes / f64::from(per_alloc),
                per_alloc,
                size_spread: if rng.chance(0.4) { 0.15 * rng.uniform() } else { 0.0 },
                churn_per_hour: crate::simulate::math::exp(10.0 + 2.0 * rng.normal()) * budget.traffic,
                noise: 0.02 + 0.13 * rng.uniform(),
                noise_tau_h: 0.3 + 1.5 * rng.uniform(),
                daily: if rng.chance(0.1) { 0.01 + 0.03 * rng.uniform() } else { 0.0 },
                warmup: None,
                first_use_h: if rng.chance(0.15) { 0.2 + 30.0 * rng.uniform() } else { 0.0 },
                leak: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> PoolBudget {
        PoolBudget { paged_bytes: 90e6, cache_bytes: 460e6, nonpaged_bytes: 85e6, traffic: 1.0 }
    }

    #[test]
    fn count_is_honoured_and_names_are_unique_four_characters() {
        for count in [0, 3, 30, 67, 300, 1000] {
            let tags = background_tags(&mut Rng::new(1), count, &budget(), &["Nfbf"]);
            assert_eq!(tags.len(), count);
            let mut keys: Vec<(String, PoolType)> = tags.iter().map(|t| (t.tag.clone(), t.pool)).collect();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), count, "(tag, pool) unique");
            assert!(tags.iter().all(|t| t.tag.len() == 4 && t.tag.is_ascii()));
            assert!(tags.iter().all(|t| t.tag != "Nfbf"));
        }
    }

    #[test]
    fn budgets_are_shared_out() {
        let tags = background_tags(&mut Rng::new(2), 300, &budget(), &[]);
        let bytes = |pool: PoolType, cache: bool| -> f64 {
            tags.iter()
                .filter(|t| t.pool == pool && t.warmup.is_some() == cache)
                .map(|t| t.base * f64::from(t.per_alloc))
                .sum()
        };
        assert!((bytes(P, true) - 460e6).abs() < 1e3);
        assert!((bytes(P, false) - 90e6).abs() < 1e3);
        assert!((bytes(N, false) - 85e6).abs() < 1e3);
    }
}
