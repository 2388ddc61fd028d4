//! One record as the evtx crate renders it (`<?xml ...?>`, a newline, then one `<Event>` with no
//! whitespace between elements and `"`-quoted attributes), read by a scanner made for that shape: a
//! general XML reader spends most of its time on cases this shape never has. It feeds the same
//! [`EventReader`] callbacks, in the same order, as the quick-xml path, so the fields cannot differ; and it
//! only accepts input on which quick-xml would produce exactly those callbacks. Anything else (comments,
//! CDATA, processing instructions after the declaration, character references, unknown entities,
//! attributes not of the form `key="value"` or `key='value'`, odd tags, invalid UTF-8, a cut record)
//! gives `None`, and the caller reads the record with quick-xml, whose messages say what is wrong.

use std::borrow::Cow;

use super::{attribute_value, Attributes, EventFields, EventReader};

/// Whitespace as quick-xml counts it.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// A name's local part: what follows its first `:` (quick-xml's rule).
fn local(name: &[u8]) -> &[u8] {
    match name.iter().position(|&c| c == b':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// The attributes of one tag: the bytes between its name and its `>` or `/>`, already checked by
/// [`tag`] to be whitespace-separated `key="value"` pairs.
struct Attrs<'a>(&'a [u8]);

impl Attributes for Attrs<'_> {
    fn get(&self, name: &[u8]) -> Option<Cow<'_, str>> {
        let mut pos = 0;
        while let Some((key, value, next)) = attribute(self.0, pos) {
            if local(key) == name {
                return Some(attribute_value(value));
            }
            pos = next;
        }
        None
    }
}

/// The attribute at `pos` of `s` after whitespace: key, raw value and the offset after its closing
/// quote. `None` at the end of `s` or at anything but `key="value"` / `key='value'` with a key of
/// plain name bytes and a value without `<` or `>`.
fn attribute(s: &[u8], pos: usize) -> Option<(&[u8], &[u8], usize)> {
    let mut pos = pos;
    while s.get(pos).copied().is_some_and(is_space) {
        pos += 1;
    }
    let key_start = pos;
    while let Some(&b) = s.get(pos) {
        if b == b'=' {
            break;
        }
        if is_space(b) || matches!(b, b'"' | b'\'' | b'<' | b'>' | b'/' | b'&') {
            return None;
        }
        pos += 1;
    }
    if pos == key_start || s.get(pos) != Some(&b'=') {
        return None;
    }
    let quote = *s.get(pos + 1)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    // Values are short: a plain loop beats a vectorised search's set-up here.
    let value_start = pos + 2;
    let mut end = value_start;
    loop {
        match *s.get(end)? {
            c if c == quote => break,
            b'<' | b'>' => return None,
            _ => end += 1,
        }
    }
    Some((&s[key_start..pos], &s[value_start..end], end + 1))
}

/// A start or empty-element tag whose `<` is at `lt`: its name, attributes, whether it is empty, and the
/// offset after its `>`. `None` for anything else or any doubt.
fn tag(b: &[u8], lt: usize) -> Option<(&[u8], Attrs<'_>, bool, usize)> {
    let name_start = lt + 1;
    let mut pos = name_start;
    while let Some(&c) = b.get(pos) {
        if is_space(c) || c == b'/' || c == b'>' {
            break;
        }
        if matches!(c, b'<' | b'"' | b'\'' | b'=' | b'&' | b'!' | b'?') {
            return None;
        }
        pos += 1;
    }
    if pos == name_start {
        return None;
    }
    let name = &b[name_start..pos];
    let attrs_start = pos;
    loop {
        let before = pos;
        while b.get(pos).copied().is_some_and(is_space) {
            pos += 1;
        }
        match *b.get(pos)? {
            b'>' => return Some((name, Attrs(&b[attrs_start..pos]), false, pos + 1)),
            b'/' if b.get(pos + 1) == Some(&b'>') => {
                return Some((name, Attrs(&b[attrs_start..pos]), true, pos + 2));
            }
            // Attributes are separated from the name and from each other by whitespace.
            _ if pos == before => return None,
            _ => pos = attribute(b, pos)?.2,
        }
    }
}

/// The text `t` (between two tags) into `body`, with the five predefined entities resolved; `None` when
/// it has any other reference. `has_amp` says whether `t` has a `&` at all (found while looking for its end).
fn text(t: &str, has_amp: bool, body: &mut EventReader) -> Option<()> {
    if !has_amp {
        body.text.push_str(t);
        return Some(());
    }
    let mut rest = t;
    while let Some(amp) = rest.find('&') {
        body.text.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let (c, len) = [("amp;", '&'), ("lt;", '<'), ("gt;", '>'), ("quot;", '"'), ("apos;", '\'')]
            .into_iter()
            .find(|(name, _)| after.starts_with(name))
            .map(|(name, c)| (c, name.len()))?;
        body.text.push(c);
        rest = &after[len..];
    }
    body.text.push_str(rest);
    Some(())
}

/// Reads one rendered record into `body`'s mapping; `None` when the record is not in the shape this
/// scanner knows (the quick-xml path then reads it).
pub(super) fn record(xml: &[u8], body: &mut EventReader) -> Option<EventFields> {
    let s = std::str::from_utf8(xml).ok()?;
    let b = s.as_bytes();
    let mut pos = 0;
    if b.starts_with(b"<?xml") {
        pos = s.find("?>")? + 2;
    }
    while b.get(pos).copied().is_some_and(is_space) {
        pos += 1;
    }
    if b.get(pos) != Some(&b'<') {
        return None;
    }
    let (name, _, empty, next) = tag(b, pos)?;
    if local(name) != b"Event" {
        return None;
    }
    if empty {
        return Some(EventFields::default());
    }
    pos = next;
    body.begin();
    loop {
        // Text runs are short (a value between two tags): a plain loop, noting any `&` on the way.
        let mut lt = pos;
        let mut has_amp = false;
        loop {
            match *b.get(lt)? {
                b'<' => break,
                b'&' => has_amp = true,
                _ => {}
            }
            lt += 1;
        }
        if lt > pos {
            // Both ends are ASCII bytes, so this is a char boundary slice.
            text(s.get(pos..lt)?, has_amp, body)?;
        }
        if b.get(lt + 1) == Some(&b'/') {
            let mut gt = lt + 2;
            loop {
                match *b.get(gt)? {
                    b'>' => break,
                    c if is_space(c) || c == b'<' => return None,
                    _ => gt += 1,
                }
            }
            if gt == lt + 2 {
                return None;
            }
            if body.end() {
                return Some(body.finish());
            }
            pos = gt + 1;
        } else {
            let (name, attrs, empty, next) = tag(b, lt)?;
            if empty {
                body.empty(local(name), &attrs);
            } else {
                body.start(local(name), &attrs);
            }
            pos = next;
        }
    }
}
