//! The statistics of ANALYSIS.md §2, as pure functions on `(t, y)` slices (t in hours).
//!
//! - [`theil_sen`]: the median pairwise slope. Exact: O(n²) pairs up to [`EXACT_PAIRS_MAX_POINTS`]
//!   points, above that an exact slope-selection algorithm in O(n log² n) expected time (see
//!   [`select_slopes`]), so a 90-hour one-minute series (5,400 points, 14.6 million pairs) costs a few
//!   milliseconds instead of a second.
//! - [`theil_sen_ci`]: the confidence interval from Kendall's S distribution (Gilbert 1987, §16.5).
//! - [`ols`]: least squares slope, R² and the slope's standard error (what `predict_linear` uses).
//! - [`mann_kendall`]: S with the tie-corrected variance, Z and a two-sided p-value, and
//!   [`hamed_rao_factor`]: the variance inflation for autocorrelated data (Hamed & Rao 1998).
//! - [`bin_medians`]: hourly medians, the aggregation the trend test runs on (one-minute samples are
//!   far from independent; peers.md §7.4).
//! - [`benjamini_hochberg`]: false-discovery-rate adjusted p-values (peers.md §7.5).
//! - [`spearman`]: rank correlation with average ranks for ties.
//!
//! Every function is deterministic: the one random step (the sample of pairs that brackets the
//! median slope) uses a fixed-seed `SplitMix64` generator, and its result is exact whatever the sample.

// Exact float equality is meant here: ties (equal times, equal values) are defined by it, and the
// formulas' one-letter names (n, t, y, S, i, j) are the papers' own.
#![allow(clippy::float_cmp, clippy::many_single_char_names)]

use std::cmp::Ordering;

/// Above this many points [`theil_sen`] switches from enumerating all pairs to slope selection.
pub const EXACT_PAIRS_MAX_POINTS: usize = 1000;

/// The two-sided 95% standard normal quantile z₀.₉₇₅.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// A Theil-Sen fit: the slope (y per hour) and the intercept at t = 0 (median of y − b·t).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SenFit {
    /// Median pairwise slope.
    pub slope: f64,
    /// Median of `y - slope * t`.
    pub intercept: f64,
}

/// A least-squares fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OlsFit {
    /// Slope, y per hour.
    pub slope: f64,
    /// Intercept at t = 0.
    pub intercept: f64,
    /// Coefficient of determination (0 when y is constant).
    pub r_squared: f64,
    /// Standard error of the slope (0 with fewer than 3 points).
    pub slope_se: f64,
}

/// The result of a Mann-Kendall test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannKendall {
    /// Number of points.
    pub n: usize,
    /// `S = Σ_{i<j} sign(y_j − y_i)`.
    pub s: f64,
    /// Var(S) with the tie correction (before any autocorrelation correction).
    pub var_s: f64,
    /// Kendall's τ = S / (n(n−1)/2).
    pub tau: f64,
}

impl MannKendall {
    /// Z with the continuity correction: (S−1)/√V for S>0, (S+1)/√V for S<0, 0 otherwise, where
    /// V = Var(S) × `variance_factor` (1 for independent data; [`hamed_rao_factor`] otherwise).
    pub fn z(&self, variance_factor: f64) -> f64 {
        let var = self.var_s * variance_factor.max(1e-12);
        if var <= 0.0 {
            return 0.0;
        }
        if self.s > 0.0 {
            (self.s - 1.0) / var.sqrt()
        } else if self.s < 0.0 {
            (self.s + 1.0) / var.sqrt()
        } else {
            0.0
        }
    }

    /// Two-sided p-value of "no monotonic trend" with the given variance factor.
    pub fn p_value(&self, variance_factor: f64) -> f64 {
        if self.n < 3 || self.var_s <= 0.0 {
            return 1.0;
        }
        2.0 * normal_sf(self.z(variance_factor).abs())
    }
}

/// Median of a slice (mean of the two middle values for even lengths); `None` when empty or NaN-laden.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    let n = v.len();
    let (_, hi, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let hi = *hi;
    if n % 2 == 1 {
        return Some(hi);
    }
    let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(f64::midpoint(lo, hi))
}

/// Quantile `q` (0..1) by linear interpolation between order statistics; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Sorts points by time and merges points with identical times (their mean), so every pair has a
/// defined slope. Non-finite points are dropped.
fn prepare(t: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut pts: Vec<(f64, f64)> =
        t.iter().zip(y).filter(|(a, b)| a.is_finite() && b.is_finite()).map(|(a, b)| (*a, *b)).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut ts = Vec::with_capacity(pts.len());
    let mut ys = Vec::with_capacity(pts.len());
    let mut i = 0;
    while i < pts.len() {
        let mut j = i;
        let mut sum = 0.0;
        while j < pts.len() && pts[j].0 == pts[i].0 {
            sum += pts[j].1;
            j += 1;
        }
        ts.push(pts[i].0);
        ys.push(sum / (j - i) as f64);
        i = j;
    }
    (ts, ys)
}

/// Theil-Sen fit of y on t. `None` with fewer than two distinct times.
pub fn theil_sen(t: &[f64], y: &[f64]) -> Option<SenFit> {
    let (t, y) = prepare(t, y);
    let n = t.len();
    if n < 2 {
        return None;
    }
    let pairs = n * (n - 1) / 2;
    let slope = if pairs % 2 == 1 {
        select_slopes(&t, &y, pairs / 2, pairs / 2)?[0]
    } else {
        let both = select_slopes(&t, &y, pairs / 2 - 1, pairs / 2)?;
        f64::midpoint(both[0], both[1])
    };
    let residuals: Vec<f64> = t.iter().zip(&y).map(|(ti, yi)| yi - slope * ti).collect();
    Some(SenFit { slope, intercept: median(&residuals)? })
}

/// The 95% confidence interval of the Theil-Sen slope from Kendall's S distribution: with N pairs
/// and C = z₀.₉₇₅·√(Var(S)·`variance_factor`), the bounds are the M₁-th and (M₂+1)-th smallest
/// pairwise slopes, M₁ = (N − C)/2 and M₂ = (N + C)/2 (Gilbert 1987, eq. 16.6-16.7; Sen 1968).
/// `variance_factor` widens the interval for autocorrelated data ([`hamed_rao_factor`]).
pub fn theil_sen_ci(t: &[f64], y: &[f64], variance_factor: f64) -> Option<[f64; 2]> {
    let (t, y) = prepare(t, y);
    let n = t.len();
    if n < 3 {
        return None;
    }
    let pairs = n * (n - 1) / 2;
    let var_s = mann_kendall(&y)?.var_s * variance_factor.max(1.0);
    let c = Z_95 * var_s.sqrt();
    let m1 = ((pairs as f64 - c) / 2.0).round();
    let m2 = f64::midpoint(pairs as f64, c).round();
    // 1-based ranks M1 and M2 + 1, clamped into 1..=N, as 0-based indices.
    let lo = (m1.max(1.0) as usize).min(pairs) - 1;
    let hi = ((m2 + 1.0).max(1.0) as usize).min(pairs) - 1;
    Some([select_slopes(&t, &y, lo, lo)?[0], select_slopes(&t, &y, hi, hi)?[0]])
}

/// The `k`-th smallest (0-based) of the pairwise slopes `(y_j − y_i)/(t_j − t_i)`, i < j, of points
/// sorted by strictly increasing time.
pub fn select_slope(t: &[f64], y: &[f64], k: usize) -> Option<f64> {
    select_slopes(t, y, k, k).map(|v| v[0])
}

/// The `k_lo`-th to `k_hi`-th smallest (0-based, inclusive, `k_hi - k_lo` small) pairwise slopes of
/// points sorted by strictly increasing time.
///
/// Up to [`EXACT_PAIRS_MAX_POINTS`] points every pair is enumerated. Larger inputs use slope
/// selection by interval shrinking (after Matoušek 1991 and Dillencourt, Mount & Netanyahu 1992):
/// for a value s, the number of pairs with slope ≤ s is the number of pairs i < j with `z_i ≥ z_j`,
/// z = y − s·t, an inversion count done by merge sort in O(n log n). A sample of 4n pairs drawn with
/// a fixed seed brackets the wanted ranks in (a, b]; bisection narrows the bracket until at most 8n
/// pairs lie in it; those pairs are listed (the inversions between the orders by y − a·t and
/// y − b·t) and the answers picked exactly. The sample only affects the running time, not the result.
pub fn select_slopes(t: &[f64], y: &[f64], k_lo: usize, k_hi: usize) -> Option<Vec<f64>> {
    let n = t.len();
    if n < 2 || y.len() != n || k_lo > k_hi {
        return None;
    }
    let pairs = n * (n - 1) / 2;
    if k_hi >= pairs {
        return None;
    }
    if n <= EXACT_PAIRS_MAX_POINTS {
        let mut slopes = Vec::with_capacity(pairs);
        for i in 0..n {
            for j in i + 1..n {
                slopes.push((y[j] - y[i]) / (t[j] - t[i]));
            }
        }
        return Some(pick_ranks(&mut slopes, k_lo, k_hi));
    }
    Some(select_slopes_large(t, y, k_lo, k_hi, pairs))
}

/// The `k_lo..=k_hi`-th smallest values of `v`, ascending (reorders `v`; ranks clamped to its length).
fn pick_ranks(v: &mut [f64], k_lo: usize, k_hi: usize) -> Vec<f64> {
    let k_hi = k_hi.min(v.len() - 1);
    let k_lo = k_lo.min(k_hi);
    v.select_nth_unstable_by(k_hi, f64::total_cmp);
    v[..=k_hi].select_nth_unstable_by(k_lo, f64::total_cmp);
    let wanted = &mut v[k_lo..=k_hi];
    wanted.sort_by(f64::total_cmp);
    wanted.to_vec()
}

/// Slope selection for many points; see [`select_slopes`].
fn select_slopes_large(t: &[f64], y: &[f64], k_lo: usize, k_hi: usize, pairs: usize) -> Vec<f64> {
    let n = t.len();
    // A sorted sample of pair slopes brackets the wanted ranks.
    let m = (4 * n).min(pairs);
    let mut rng = SplitMix64(0x5eed_1e55_9001_0001 ^ n as u64);
    let mut sample: Vec<f64> = (0..m)
        .map(|_| {
            let i = rng.below(n);
            let mut j = rng.below(n - 1);
            if j >= i {
                j += 1;
            }
            let (i, j) = if i < j { (i, j) } else { (j, i) };
            (y[j] - y[i]) / (t[j] - t[i])
        })
        .collect();
    sample.sort_by(f64::total_cmp);
    let scale = m as f64 / pairs as f64;
    let mut margin = 3.0 * (m as f64).sqrt();
    let (mut a, mut b, mut below_a, mut upto_b);
    loop {
        let lo_idx = k_lo as f64 * scale - margin;
        let hi_idx = k_hi as f64 * scale + margin;
        a = if lo_idx < 0.0 { f64::NEG_INFINITY } else { sample[lo_idx as usize] };
        b = if hi_idx >= (m - 1) as f64 { f64::INFINITY } else { sample[hi_idx.ceil() as usize] };
        below_a = if a.is_finite() { count_at_most(t, y, a) } else { 0 };
        upto_b = if b.is_finite() { count_at_most(t, y, b) } else { pairs };
        // The wanted slopes lie in (a, b] when count(≤ a) ≤ k_lo and k_hi < count(≤ b).
        if below_a <= k_lo && k_hi < upto_b {
            break;
        }
        margin *= 4.0;
    }
    // Narrow by bisection until listing the pairs in (a, b] is cheap.
    let limit = 8 * n;
    let mut rounds = 0;
    while upto_b - below_a > limit && rounds < 200 {
        rounds += 1;
        let mid = if a.is_finite() && b.is_finite() {
            f64::midpoint(a, b)
        } else if a.is_finite() {
            a + (a.abs() + 1.0) * 2.0
        } else {
            b - (b.abs() + 1.0) * 2.0
        };
        if mid <= a || mid >= b {
            // The bracket is as narrow as floating point allows: every slope in it is b.
            return vec![b; k_hi - k_lo + 1];
        }
        let c = count_at_most(t, y, mid);
        if c > k_hi {
            b = mid;
            upto_b = c;
        } else if c <= k_lo {
            a = mid;
            below_a = c;
        } else {
            break; // the wanted ranks straddle mid: list what is left
        }
    }
    let mut inside = list_between(t, y, a, b);
    if inside.is_empty() {
        return vec![b; k_hi - k_lo + 1];
    }
    let lo = (k_lo - below_a).min(inside.len() - 1);
    let hi = (k_hi - below_a).min(inside.len() - 1);
    pick_ranks(&mut inside, lo, hi)
}

/// Number of pairs i < j (by time) with slope ≤ s: pairs with `z_i ≥ z_j` for `z = y − s·t`.
fn count_at_most(t: &[f64], y: &[f64], s: f64) -> usize {
    let mut z: Vec<f64> = t.iter().zip(y).map(|(ti, yi)| yi - s * ti).collect();
    let mut buf = vec![0.0; z.len()];
    count_non_increasing_pairs(&mut z, &mut buf)
}

/// Counts pairs p < q with v[p] ≥ v[q] while merge-sorting `v` ascending.
fn count_non_increasing_pairs(v: &mut [f64], buf: &mut [f64]) -> usize {
    let n = v.len();
    if n < 2 {
        return 0;
    }
    let mid = n / 2;
    let mut count = {
        let (l, r) = v.split_at_mut(mid);
        let (bl, br) = buf.split_at_mut(mid);
        count_non_increasing_pairs(l, bl) + count_non_increasing_pairs(r, br)
    };
    let (mut i, mut j, mut o) = (0, mid, 0);
    while i < mid && j < n {
        // Both halves are ascending: a right element ≤ v[i] is ≤ every remaining left element.
        if v[j] <= v[i] {
            count += mid - i;
            buf[o] = v[j];
            j += 1;
        } else {
            buf[o] = v[i];
            i += 1;
        }
        o += 1;
    }
    buf[o..o + mid - i].copy_from_slice(&v[i..mid]);
    o += mid - i;
    buf[o..o + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
    count
}

/// The slopes of the pairs whose slope lies in (a, b]: sort points by `z_a = y − a·t` (ties: later
/// time first), then the pairs out of order in `z_b = y − b·t` are exactly those (see [`select_slope`]).
fn list_between(t: &[f64], y: &[f64], a: f64, b: f64) -> Vec<f64> {
    let n = t.len();
    // With a = −∞ every pair has slope > a, and time order (i before j) is the order wanted.
    let mut order: Vec<usize> = (0..n).collect();
    if a.is_finite() {
        order.sort_by(|&p, &q| {
            let zp = y[p] - a * t[p];
            let zq = y[q] - a * t[q];
            zp.total_cmp(&zq).then(q.cmp(&p))
        });
    }
    // With b = +∞ every pair listed in time order is inside: key −index makes exactly those inverted.
    let zb = |p: usize| if b.is_finite() { y[p] - b * t[p] } else { -(p as f64) };
    let mut items: Vec<(f64, usize)> = order.iter().map(|&p| (zb(p), p)).collect();
    let mut buf = items.clone();
    let mut out = Vec::new();
    // Membership is decided by the same z comparisons as `count_at_most`, so the listed set and the
    // counts agree even where floating point rounds a slope equal to a or b either way.
    list_inversions(&mut items, &mut buf, &mut |p, q| {
        let (i, j) = if p < q { (p, q) } else { (q, p) };
        out.push((y[j] - y[i]) / (t[j] - t[i]));
    });
    out
}

/// Merge sort by key ascending that calls `found(first, second)` for every pair listed in order
/// (first, second) whose keys satisfy key(first) ≥ key(second).
fn list_inversions(v: &mut [(f64, usize)], buf: &mut [(f64, usize)], found: &mut dyn FnMut(usize, usize)) {
    let n = v.len();
    if n < 2 {
        return;
    }
    let mid = n / 2;
    {
        let (l, r) = v.split_at_mut(mid);
        let (bl, br) = buf.split_at_mut(mid);
        list_inversions(l, bl, found);
        list_inversions(r, br, found);
    }
    let (mut i, mut j, mut o) = (0, mid, 0);
    while i < mid && j < n {
        if v[j].0 <= v[i].0 {
            for left in &v[i..mid] {
                found(left.1, v[j].1);
            }
            buf[o] = v[j];
            j += 1;
        } else {
            buf[o] = v[i];
            i += 1;
        }
        o += 1;
    }
    buf[o..o + mid - i].copy_from_slice(&v[i..mid]);
    o += mid - i;
    buf[o..o + n - j].copy_from_slice(&v[j..n]);
    v.copy_from_slice(&buf[..n]);
}

/// A small deterministic generator (`SplitMix64`, Steele et al. 2014): no dependency, fixed seeds.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform index below `n` (n > 0); the modulo bias is negligible for n ≪ 2⁶⁴.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Ordinary least squares of y on t.
pub fn ols(t: &[f64], y: &[f64]) -> Option<OlsFit> {
    let n = t.len().min(y.len());
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let tm = t[..n].iter().sum::<f64>() / nf;
    let ym = y[..n].iter().sum::<f64>() / nf;
    let (mut stt, mut sty, mut syy) = (0.0, 0.0, 0.0);
    for (ti, yi) in t[..n].iter().zip(&y[..n]) {
        let dt = ti - tm;
        let dy = yi - ym;
        stt += dt * dt;
        sty += dt * dy;
        syy += dy * dy;
    }
    if stt <= 0.0 {
        return None;
    }
    let slope = sty / stt;
    let intercept = ym - slope * tm;
    let sse = (syy - slope * sty).max(0.0);
    let r_squared = if syy > 0.0 { (1.0 - sse / syy).clamp(0.0, 1.0) } else { 0.0 };
    let slope_se = if n > 2 { (sse / (nf - 2.0) / stt).sqrt() } else { 0.0 };
    Some(OlsFit { slope, intercept, r_squared, slope_se })
}

/// Mann-Kendall S and its tie-corrected variance
/// `Var(S) = [n(n−1)(2n+5) − Σ t_k(t_k−1)(2t_k+5)]/18` (peers.md §7.4). O(n²): run it on
/// aggregates ([`bin_medians`]), not on raw one-minute samples.
pub fn mann_kendall(y: &[f64]) -> Option<MannKendall> {
    let n = y.len();
    if n < 2 {
        return None;
    }
    let mut s = 0i64;
    for i in 0..n {
        for j in i + 1..n {
            s += match y[j].partial_cmp(&y[i]) {
                Some(Ordering::Greater) => 1,
                Some(Ordering::Less) => -1,
                _ => 0,
            };
        }
    }
    let nf = n as f64;
    let mut sorted = y.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mut ties = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && sorted[j] == sorted[i] {
            j += 1;
        }
        let tk = (j - i) as f64;
        ties += tk * (tk - 1.0) * (2.0 * tk + 5.0);
        i = j;
    }
    let var_s = (nf * (nf - 1.0) * (2.0 * nf + 5.0) - ties) / 18.0;
    Some(MannKendall { n, s: s as f64, var_s, tau: s as f64 / (nf * (nf - 1.0) / 2.0) })
}

/// Hamed & Rao (1998) variance correction factor n/n*_s for the Mann-Kendall variance:
/// `1 + 2/(n(n−1)(n−2)) · Σ_{k=1}^{n−1} (n−k)(n−k−1)(n−k−2)·ρ_k`, where `ρ_k` is the lag-k
/// autocorrelation of the ranks of the detrended series (y − slope·t), counted only when
/// significant at the 5% level (`|ρ_k| > z₀.₉₇₅/√n`), as in the original paper and pymannkendall's
/// `hamed_rao_modification_test`. Never below 1 here: a negative serial correlation would narrow
/// the test, and honest reporting prefers the wider variance. O(n²).
pub fn hamed_rao_factor(t: &[f64], y: &[f64], slope: f64) -> f64 {
    let n = t.len().min(y.len());
    if n < 4 {
        return 1.0;
    }
    let detrended: Vec<f64> = t.iter().zip(y).map(|(ti, yi)| yi - slope * ti).collect();
    let r = ranks(&detrended);
    let mean = r.iter().sum::<f64>() / n as f64;
    let c: Vec<f64> = r.iter().map(|x| x - mean).collect();
    let c0: f64 = c.iter().map(|x| x * x).sum();
    if c0 <= 0.0 {
        return 1.0;
    }
    let nf = n as f64;
    let bound = Z_95 / nf.sqrt();
    let mut sum = 0.0;
    for k in 1..n - 2 {
        let ck: f64 = c[..n - k].iter().zip(&c[k..]).map(|(a, b)| a * b).sum();
        let rho = ck / c0;
        if rho.abs() > bound {
            let m = (n - k) as f64;
            sum += m * (m - 1.0) * (m - 2.0) * rho;
        }
    }
    (1.0 + 2.0 / (nf * (nf - 1.0) * (nf - 2.0)) * sum).max(1.0)
}

/// Median of y per time bin of `width` hours from the first time: returns (bin centre, median)
/// for non-empty bins, in time order. This is the "hourly aggregate" the trend test uses.
pub fn bin_medians(t: &[f64], y: &[f64], width: f64) -> (Vec<f64>, Vec<f64>) {
    let n = t.len().min(y.len());
    let (mut bt, mut by) = (Vec::new(), Vec::new());
    if n == 0 || width <= 0.0 || !width.is_finite() {
        return (bt, by);
    }
    let t0 = t[0];
    let mut start = 0;
    while start < n {
        let bin = ((t[start] - t0) / width).floor();
        let mut end = start;
        while end < n && ((t[end] - t0) / width).floor() == bin {
            end += 1;
        }
        if let Some(m) = median(&y[start..end]) {
            bt.push(t0 + (bin + 0.5) * width);
            by.push(m);
        }
        start = end.max(start + 1);
    }
    (bt, by)
}

/// Ranks from 1, ties given their average rank.
pub fn ranks(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut out = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && v[idx[j]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0;
        for &k in &idx[i..j] {
            out[k] = avg;
        }
        i = j;
    }
    out
}

/// Pearson correlation; `None` when either side is constant or shorter than 3.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 3 {
        return None;
    }
    let xm = x[..n].iter().sum::<f64>() / n as f64;
    let ym = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x[..n].iter().zip(&y[..n]) {
        sxy += (a - xm) * (b - ym);
        sxx += (a - xm) * (a - xm);
        syy += (b - ym) * (b - ym);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Spearman rank correlation (Pearson on average ranks); `None` when either side is constant.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    pearson(&ranks(&x[..n]), &ranks(&y[..n]))
}

/// Benjamini-Hochberg adjusted p-values (q-values), in input order: q_(i) = min_{j≥i} p_(j)·m/j.
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut idx: Vec<usize> = (0..m).collect();
    idx.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut q = vec![1.0; m];
    let mut running = 1.0f64;
    for rank in (0..m).rev() {
        let i = idx[rank];
        let adj = (p[i] * m as f64 / (rank + 1) as f64).min(1.0);
        running = running.min(adj);
        q[i] = running;
    }
    q
}

/// Upper tail of the standard normal, P(Z > z), from the complementary error function.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function, relative error below 1.2e-7 everywhere (Numerical Recipes'
/// Chebyshev fit `erfcc`); keeps tiny tail probabilities meaningful instead of rounding to 0.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn median_odd_even_and_empty() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn quantile_interpolates() {
        assert_eq!(quantile(&[0.0, 10.0], 0.25), Some(2.5));
        assert_eq!(quantile(&[5.0, 1.0, 3.0], 1.0), Some(5.0));
    }

    #[test]
    fn theil_sen_by_hand() {
        // Pairs: (0,1):1, (0,2):1.5, (0,3):1, (1,2):2, (1,3):1, (2,3):0 → sorted 0,1,1,1,1.5,2 → median 1.
        let t = [0.0, 1.0, 2.0, 3.0];
        let y = [0.0, 1.0, 3.0, 3.0];
        let fit = theil_sen(&t, &y).unwrap();
        assert_eq!(fit.slope, 1.0);
        // Residuals y − t: 0, 0, 1, 0 → median 0.
        assert_eq!(fit.intercept, 0.0);
    }

    #[test]
    fn theil_sen_ignores_an_outlier_that_moves_ols() {
        let t: Vec<f64> = (0..11).map(f64::from).collect();
        let mut y: Vec<f64> = t.iter().map(|x| 2.0 * x + 5.0).collect();
        y[5] = 1000.0;
        assert_eq!(theil_sen(&t, &y).unwrap().slope, 2.0);
        assert!(ols(&t, &y).unwrap().r_squared < 0.1);
    }

    #[test]
    fn theil_sen_merges_duplicate_times() {
        // Times 0, 0, 1: the two t=0 points merge to y = 1; one pair with slope 2.
        assert_eq!(theil_sen(&[0.0, 0.0, 1.0], &[0.0, 2.0, 3.0]).unwrap().slope, 2.0);
        assert!(theil_sen(&[1.0, 1.0], &[1.0, 2.0]).is_none());
    }

    #[test]
    fn slope_selection_matches_enumeration_on_large_input() {
        // 2,600 noisy, irregularly spaced points with repeated values: the fast path must pick the
        // same order statistics as brute force.
        let mut rng = SplitMix64(7);
        let n = 2600;
        let mut t = Vec::with_capacity(n);
        let mut acc = 0.0;
        for _ in 0..n {
            acc += 0.01 + (rng.below(100) as f64) / 5000.0;
            t.push(acc);
        }
        let y: Vec<f64> = t.iter().map(|x| (3.0 * x + (rng.below(40) as f64)).floor()).collect();
        let mut all = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                all.push((y[j] - y[i]) / (t[j] - t[i]));
            }
        }
        all.sort_by(f64::total_cmp);
        for k in [0, 17, all.len() / 3, all.len() / 2, all.len() - 5, all.len() - 1] {
            assert_eq!(select_slope(&t, &y, k).unwrap(), all[k], "rank {k}");
        }
    }

    #[test]
    fn slope_selection_on_an_exact_line_with_ties() {
        // Every pair has slope exactly 5: bisection cannot split the bracket and must stop.
        let t: Vec<f64> = (0..3000).map(f64::from).collect();
        let y: Vec<f64> = t.iter().map(|x| 5.0 * x).collect();
        let fit = theil_sen(&t, &y).unwrap();
        assert!(close(fit.slope, 5.0, 1e-9), "{fit:?}");
    }

    #[test]
    fn confidence_interval_by_hand() {
        // n = 10, no ties: Var(S) = 10·9·25/18 = 125, C = 1.96·√125 = 21.91, N = 45,
        // M1 = (45 − 21.91)/2 = 11.54 → 12, M2 + 1 = 33.46 + 1 → 34: the 12th and 34th smallest slopes.
        let t: Vec<f64> = (0..10).map(f64::from).collect();
        let y = [1.0, 3.0, 2.0, 5.0, 4.0, 7.0, 6.0, 9.0, 8.0, 10.0];
        let mut all = Vec::new();
        for i in 0..10 {
            for j in i + 1..10 {
                all.push((y[j] - y[i]) / (t[j] - t[i]));
            }
        }
        all.sort_by(f64::total_cmp);
        let ci = theil_sen_ci(&t, &y, 1.0).unwrap();
        assert_eq!(ci, [all[11], all[33]]);
        let slope = theil_sen(&t, &y).unwrap().slope;
        assert!(ci[0] <= slope && slope <= ci[1]);
        // A variance factor widens it.
        let wide = theil_sen_ci(&t, &y, 4.0).unwrap();
        assert!(wide[0] <= ci[0] && wide[1] >= ci[1]);
    }

    #[test]
    fn ols_by_hand() {
        // t = 0,1,2,3, y = 1,3,2,5: t̄ = 1.5, ȳ = 2.75, Stt = 5, Sty = 5.5 → b = 1.1, a = 1.1;
        // Syy = 8.75, SSE = 8.75 − 1.1·5.5 = 2.7, R² = 1 − 2.7/8.75, se = √(2.7/2/5).
        let fit = ols(&[0.0, 1.0, 2.0, 3.0], &[1.0, 3.0, 2.0, 5.0]).unwrap();
        assert!(close(fit.slope, 1.1, 1e-12));
        assert!(close(fit.intercept, 1.1, 1e-12));
        assert!(close(fit.r_squared, 1.0 - 2.7 / 8.75, 1e-12));
        assert!(close(fit.slope_se, (2.7f64 / 2.0 / 5.0).sqrt(), 1e-12));
        assert!(ols(&[1.0, 1.0], &[1.0, 2.0]).is_none());
    }

    #[test]
    fn mann_kendall_by_hand_with_ties() {
        // y = 1, 2, 2, 3: pairs (1,2)+ (1,2)+ (1,3)+ (2,2)0 (2,3)+ (2,3)+ → S = 5.
        // Var = [4·3·13 − 2·1·9]/18 = (156 − 18)/18 = 7.6667; Z = (5 − 1)/√7.6667 = 1.4446.
        let mk = mann_kendall(&[1.0, 2.0, 2.0, 3.0]).unwrap();
        assert_eq!(mk.s, 5.0);
        assert!(close(mk.var_s, 138.0 / 18.0, 1e-12));
        assert!(close(mk.z(1.0), 4.0 / (138.0f64 / 18.0).sqrt(), 1e-12));
        assert!(close(mk.tau, 5.0 / 6.0, 1e-12));
        // p = 2·(1 − Φ(1.4446)) = 0.1486.
        assert!(close(mk.p_value(1.0), 0.1486, 1e-3));
        // Negative trend mirrors, S = 0 gives Z = 0.
        assert!(close(mann_kendall(&[3.0, 2.0, 2.0, 1.0]).unwrap().z(1.0), -mk.z(1.0), 1e-12));
        assert_eq!(mann_kendall(&[1.0, 2.0, 1.0]).unwrap().z(1.0), 0.0);
    }

    #[test]
    fn hamed_rao_inflates_for_a_random_walk_but_not_for_white_noise() {
        let mut rng = SplitMix64(42);
        let t: Vec<f64> = (0..200).map(f64::from).collect();
        let noise: Vec<f64> = (0..200).map(|_| rng.below(1000) as f64).collect();
        let mut walk = Vec::with_capacity(200);
        let mut level = 0.0;
        for _ in 0..200 {
            level += rng.below(1000) as f64 - 499.5;
            walk.push(level);
        }
        assert!(hamed_rao_factor(&t, &noise, 0.0) < 1.5);
        assert!(hamed_rao_factor(&t, &walk, 0.0) > 3.0);
    }

    #[test]
    fn bins_take_medians_per_hour() {
        let t = [0.0, 0.2, 0.9, 1.1, 1.5, 3.2];
        let y = [1.0, 5.0, 3.0, 10.0, 20.0, 7.0];
        let (bt, by) = bin_medians(&t, &y, 1.0);
        assert_eq!(bt, vec![0.5, 1.5, 3.5]);
        assert_eq!(by, vec![3.0, 15.0, 7.0]);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(ranks(&[10.0, 20.0, 10.0, 30.0]), vec![1.5, 3.0, 1.5, 4.0]);
    }

    #[test]
    fn spearman_by_hand() {
        // Monotone but not linear: Spearman 1, Pearson below 1.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [1.0, 4.0, 9.0, 16.0, 100.0];
        assert!(close(spearman(&x, &y).unwrap(), 1.0, 1e-12));
        assert!(pearson(&x, &y).unwrap() < 0.95);
        // d = ranks differ by (0, 0, 1, -1, 0): ρ = 1 − 6·2/(5·24) = 0.9.
        assert!(close(spearman(&x, &[1.0, 2.0, 4.0, 3.0, 5.0]).unwrap(), 0.9, 1e-12));
        assert!(spearman(&x, &[1.0; 5]).is_none());
    }

    #[test]
    fn benjamini_hochberg_by_hand() {
        // p sorted 0.01, 0.02, 0.03, 0.5 with m = 4: raw 0.04, 0.04, 0.04, 0.5; monotone from the top.
        let q = benjamini_hochberg(&[0.03, 0.5, 0.01, 0.02]);
        assert_eq!(q, vec![0.04, 0.5, 0.04, 0.04]);
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn normal_tail_values() {
        assert!(close(normal_sf(0.0), 0.5, 1e-7));
        assert!(close(normal_sf(Z_95), 0.025, 1e-6));
        assert!(close(normal_sf(-1.0), 0.841_344_746, 1e-6));
        // Far tails stay positive and tiny instead of rounding to zero.
        let p = normal_sf(20.0);
        assert!(p > 0.0 && p < 1e-80);
    }
}
