//! Event-marker labels in the band above a plot (issue 10): repeated events of one kind become one
//! label (`2020 paged ×8 from 11:21`), and labels are placed in rows so that no two overlap, no
//! label's leader line crosses another label, and none covers a given obstacle (the limit label).
//! Pure functions of pixel widths and positions, so the placement is tested without drawing.

use super::{Marker, MarkerKind};

/// A rectangle in pixels, edges inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelBox {
    /// Left edge.
    pub x0: i32,
    /// Top edge.
    pub y0: i32,
    /// Right edge.
    pub x1: i32,
    /// Bottom edge.
    pub y1: i32,
}

impl PixelBox {
    /// Whether two boxes share a pixel.
    pub fn intersects(&self, other: &PixelBox) -> bool {
        self.x0 <= other.x1 && other.x0 <= self.x1 && self.y0 <= other.y1 && other.y0 <= self.y1
    }
}

/// Where one label went: its box, and the leader from the box down to the band's base at the anchor
/// (none for labels in the lowest row, which touch the base).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// The label's box.
    pub label: PixelBox,
    /// The leader line's box (one pixel wide).
    pub leader: Option<PixelBox>,
    /// Row, 0 = lowest (next to the plot).
    pub row: usize,
}

/// The band the labels go in: rows stacked upward from `base` (the plot's top edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Band {
    /// Leftmost pixel a label may use.
    pub left: i32,
    /// Rightmost pixel a label may use.
    pub right: i32,
    /// The band's bottom edge (labels sit above it).
    pub base: i32,
    /// Height of a row.
    pub row_height: i32,
    /// Most rows.
    pub max_rows: usize,
}

/// Places labels given as `(anchor x, width)` in pixels, in the order given (callers pass them left
/// to right). Each label starts at its anchor, or ends there when that does not fit; it takes the
/// lowest row where neither it nor its leader touches an earlier label, leader or `obstacles`. A label
/// that fits nowhere is `None` (its marker line still shows).
pub fn place(items: &[(i32, i32)], band: &Band, obstacles: &[PixelBox]) -> Vec<Option<Placed>> {
    let mut taken: Vec<PixelBox> = obstacles.to_vec();
    let mut out = Vec::with_capacity(items.len());
    for &(anchor, width) in items {
        let width = width.max(1);
        let mut chosen = None;
        'rows: for row in 0..band.max_rows {
            let bottom = band.base - 1 - band.row_height * row as i32;
            let top = bottom - band.row_height + 2;
            for x0 in [anchor - 2, anchor - width + 2] {
                // A label at an edge of the band is pulled in by the few pixels it sticks out.
                let x0 = if x0 + width - 1 > band.right && x0 + width - 1 - band.right <= 4 {
                    band.right - width + 1
                } else {
                    x0
                };
                let (x0, x1) = (x0.max(band.left).min(anchor), x0.max(band.left).min(anchor) + width - 1);
                if x0 < band.left || x1 > band.right || x1 < anchor - 2 {
                    continue;
                }
                let label = PixelBox { x0, y0: top, x1, y1: bottom };
                let leader = (row > 0).then(|| PixelBox { x0: anchor, y0: bottom + 1, x1: anchor, y1: band.base - 1 });
                let clear = |b: &PixelBox| !taken.iter().any(|t| t.intersects(b));
                if clear(&label) && leader.as_ref().is_none_or(clear) {
                    chosen = Some(Placed { label, leader, row });
                    break 'rows;
                }
            }
        }
        if let Some(p) = chosen {
            taken.push(p.label);
            taken.extend(p.leader);
        }
        out.push(chosen);
    }
    out
}

/// Markers of one label that belong together, drawn as one label at the first.
#[derive(Debug, Clone, PartialEq)]
pub struct MarkerGroup {
    /// Position (chart x unit) and kind of every member, ascending.
    pub members: Vec<(f64, MarkerKind)>,
    /// Kind.
    pub kind: MarkerKind,
    /// The label: `2004`, or `2020 paged ×8 from 11:21` for repeats.
    pub label: String,
}

/// Groups markers: the same label repeated with gaps under `max_gap` (chart x units) becomes one
/// group, labelled with the count and `when(first x)`. Groups come out in order of their first x.
pub fn group(markers: &[Marker], max_gap: f64, when: impl Fn(f64) -> String) -> Vec<MarkerGroup> {
    let mut sorted: Vec<&Marker> = markers.iter().filter(|m| m.x.is_finite()).collect();
    sorted.sort_by(|a, b| a.x.total_cmp(&b.x).then(a.label.cmp(&b.label)));
    let mut groups: Vec<(String, MarkerGroup)> = Vec::new();
    for m in sorted {
        let open = groups
            .iter_mut()
            .rev()
            .find(|(label, g)| *label == m.label && g.kind == m.kind)
            .filter(|(_, g)| g.members.last().is_some_and(|&(last, _)| m.x - last <= max_gap));
        match open {
            Some((_, g)) => g.members.push((m.x, m.kind)),
            None => groups.push((
                m.label.clone(),
                MarkerGroup { members: vec![(m.x, m.kind)], kind: m.kind, label: m.label.clone() },
            )),
        }
    }
    let mut out: Vec<MarkerGroup> = groups
        .into_iter()
        .map(|(label, mut g)| {
            if g.members.len() > 1 {
                g.label = format!("{label} ×{} from {}", g.members.len(), when(g.members[0].0));
            }
            g
        })
        .collect();
    out.sort_by(|a, b| a.members[0].0.total_cmp(&b.members[0].0).then(a.kind.cmp(&b.kind)));
    out
}

/// Merges groups whose first members are within `max_px` pixels of each other (`px` maps chart x to
/// pixels) into one label, `2004, 41, 6008, boot 1`: a hang logs them within a minute, and one label
/// reads better than a tower of leaders. The most important kind gives the colour; every member keeps
/// its own line.
pub fn merge_close(groups: Vec<MarkerGroup>, max_px: i32, px: impl Fn(f64) -> i32) -> Vec<MarkerGroup> {
    let mut out: Vec<(i32, MarkerGroup)> = Vec::new();
    for g in groups {
        let at = px(g.members[0].0);
        match out.last_mut() {
            Some((first, m)) if at - *first <= max_px => {
                m.members.extend(&g.members);
                m.members.sort_by(|a, b| a.0.total_cmp(&b.0));
                m.kind = m.kind.max(g.kind);
                m.label = format!("{}, {}", m.label, g.label);
            }
            _ => out.push((at, g)),
        }
    }
    out.into_iter().map(|(_, g)| g).collect()
}

/// Merges and places marker labels: groups whose labels start within `merge_px[0]` pixels share a
/// label; while some label finds no room, the next, wider step is tried (the last try is kept).
/// `px` maps chart x to pixels, `width` measures a label.
pub fn layout(
    groups: Vec<MarkerGroup>,
    merge_px: &[i32],
    band: &Band,
    obstacles: &[PixelBox],
    px: impl Fn(f64) -> i32,
    width: impl Fn(&str) -> i32,
) -> (Vec<MarkerGroup>, Vec<Option<Placed>>) {
    let mut best = (Vec::new(), Vec::new());
    for &step in merge_px {
        let merged = merge_close(groups.clone(), step, &px);
        let items: Vec<(i32, i32)> = merged.iter().map(|g| (px(g.members[0].0), width(&g.label))).collect();
        let placed = place(&items, band, obstacles);
        let complete = placed.iter().all(Option::is_some);
        best = (merged, placed);
        if complete {
            break;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn band() -> Band {
        Band { left: 100, right: 900, base: 200, row_height: 17, max_rows: 4 }
    }

    fn assert_disjoint(placed: &[Option<Placed>], obstacles: &[PixelBox], band: &Band) {
        let all: Vec<&Placed> = placed.iter().flatten().collect();
        for (i, a) in all.iter().enumerate() {
            assert!(a.label.x0 >= band.left && a.label.x1 <= band.right, "{a:?} outside the band");
            assert!(a.label.y1 < band.base, "{a:?} reaches into the plot");
            for o in obstacles {
                assert!(!a.label.intersects(o), "{a:?} covers obstacle {o:?}");
                assert!(a.leader.is_none_or(|l| !l.intersects(o)), "{a:?}'s leader crosses {o:?}");
            }
            for b in &all[i + 1..] {
                assert!(!a.label.intersects(&b.label), "{a:?} overlaps {b:?}");
                assert!(a.leader.is_none_or(|l| !l.intersects(&b.label)), "{a:?}'s leader crosses {b:?}");
                assert!(b.leader.is_none_or(|l| !l.intersects(&a.label)), "{b:?}'s leader crosses {a:?}");
            }
        }
    }

    #[test]
    fn clustered_labels_never_overlap_each_other_or_the_limit_label() {
        // A hang: 2020, 2004, projected, 41, 6008 and a boot within a few pixels, near the right edge,
        // with the limit line's label in the top row's way.
        let items = [(700, 120), (702, 40), (705, 70), (860, 30), (862, 40), (866, 60), (880, 55), (300, 80)];
        let limit_label = PixelBox { x0: 760, y0: 150, x1: 900, y1: 165 };
        let placed = place(&items, &band(), &[limit_label]);
        assert_disjoint(&placed, &[limit_label], &band());
        // A lone label sits in the lowest row, with no leader.
        let lone = placed[7].unwrap();
        assert_eq!((lone.row, lone.leader), (0, None));
    }

    #[test]
    fn a_hang_cluster_gets_every_label_placed_after_merging() {
        // The lsass incident: eight 2020s over two hours, a 2004, the projection, then 41, 6008 and
        // the boot, on a four-day axis 800 px wide (8 px an hour).
        let m = |h: f64, label: &str, kind| Marker { x: h * 3600.0, label: label.to_owned(), kind };
        let mut markers: Vec<Marker> =
            (0..8).map(|k| m(88.0 + 0.25 * f64::from(k), "2020 paged", MarkerKind::Event)).collect();
        markers.push(m(90.1, "2004", MarkerKind::Event));
        markers.push(m(90.3, "projected", MarkerKind::Projected));
        markers.push(m(91.4, "41", MarkerKind::Event));
        markers.push(m(91.4, "6008", MarkerKind::Event));
        markers.push(m(91.5, "boot 1", MarkerKind::Boot));
        markers.push(m(20.0, "2019 nonpaged", MarkerKind::Event));
        let groups = group(&markers, 3.0 * 3600.0, |x| format!("{:02.0}:00", (x / 3600.0) % 24.0));
        let px = |x: f64| 100 + (x / 3600.0 * 8.0) as i32;
        let width = |s: &str| 7 * s.chars().count() as i32 + 6;
        let limit_label = PixelBox { x0: 108, y0: 186, x1: 220, y1: 199 };
        let (merged, placed) = layout(groups, &[24, 60, 120, 240], &band(), &[limit_label], px, width);
        assert!(placed.iter().all(Option::is_some), "{merged:?} {placed:?}");
        assert_disjoint(&placed, &[limit_label], &band());
        let text: Vec<&str> = merged.iter().map(|g| g.label.as_str()).collect();
        assert!(text.iter().any(|t| t.contains("2020 paged ×8 from 16:00")), "{text:?}");
        assert!(text.iter().any(|t| t.contains("boot 1")), "{text:?}");
        // Every marker still has its own line.
        assert_eq!(merged.iter().map(|g| g.members.len()).sum::<usize>(), markers.len());
    }

    #[test]
    fn labels_at_the_right_edge_end_at_their_anchor() {
        let placed = place(&[(895, 60)], &band(), &[]);
        let p = placed[0].unwrap();
        assert!(p.label.x1 <= 900 && p.label.x1 >= 895, "{p:?}");
    }

    #[test]
    fn many_labels_stay_disjoint() {
        // Deterministic pseudo-random anchors and widths.
        let mut seed = 7u32;
        let mut next = || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 8) as i32
        };
        let mut items: Vec<(i32, i32)> = (0..40).map(|_| (100 + next() % 800, 20 + next() % 120)).collect();
        items.sort_unstable();
        let placed = place(&items, &band(), &[]);
        assert_disjoint(&placed, &[], &band());
    }

    #[test]
    fn repeats_of_one_event_become_one_label() {
        let m = |x: f64, label: &str, kind| Marker { x, label: label.to_owned(), kind };
        let mut markers: Vec<Marker> =
            (0..8).map(|k| m(1000.0 + 60.0 * f64::from(k), "2020 paged", MarkerKind::Event)).collect();
        markers.push(m(1100.0, "2004", MarkerKind::Event));
        markers.push(m(2500.0, "boot 1", MarkerKind::Boot));
        // The same event much later is its own episode.
        markers.push(m(90_000.0, "2020 paged", MarkerKind::Event));
        let groups = group(&markers, 3600.0, |x| format!("t{x:.0}"));
        let labels: Vec<&str> = groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["2020 paged ×8 from t1000", "2004", "boot 1", "2020 paged"]);
        assert_eq!(groups[0].members.len(), 8);
        assert_eq!(groups[2].kind, MarkerKind::Boot);
        // A boot a pixel after the 2004 joins its label; the event decides the colour.
        let merged = merge_close(groups, 8, |x| (x / 100.0) as i32);
        let labels: Vec<&str> = merged.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(labels, ["2020 paged ×8 from t1000, 2004", "boot 1", "2020 paged"]);
        assert_eq!(merged[0].kind, MarkerKind::Event);
        assert_eq!(merged[0].members.len(), 9);
    }
}
