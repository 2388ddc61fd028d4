//! `wevtutil qe System /f:xml` output (events reference §2.1): no XML declaration and no root
//! element, one `<Event xmlns='…'>` per line, attributes in single quotes, empty schema elements
//! self-closed (`<Correlation/>`) and empty values written open-and-close (`<Data></Data>`).

use super::tree::{event_tree, Content, Element};
use super::SimEvent;

/// Renders events the way `wevtutil qe System /f:xml` prints them, each event on its own
/// CRLF-terminated line (a value that itself holds a line break stays a literal line break, as
/// wevtutil writes it; a carriage return is written `&#13;` so an XML parser keeps it).
pub fn to_wevtutil_xml(events: &[SimEvent]) -> String {
    let mut out = String::new();
    for event in events {
        write_element(&mut out, &event_tree(event));
        out.push_str("\r\n");
    }
    out
}

fn write_element(out: &mut String, element: &Element) {
    out.push('<');
    out.push_str(element.name);
    for (name, value) in &element.attrs {
        out.push(' ');
        out.push_str(name);
        out.push_str("='");
        escape_attribute(out, &value.text());
        out.push('\'');
    }
    match &element.content {
        Content::Empty => out.push_str("/>"),
        Content::Value(value) => {
            out.push('>');
            escape_text(out, &value.text());
            close(out, element);
        }
        Content::Children(children) => {
            out.push('>');
            for child in children {
                write_element(out, child);
            }
            close(out, element);
        }
    }
}

fn close(out: &mut String, element: &Element) {
    out.push_str("</");
    out.push_str(element.name);
    out.push('>');
}

/// Escapes element text: markup characters, and CR (XML parsers turn a literal CR into LF).
fn escape_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

/// Escapes a single-quoted attribute value: markup characters, both quotes, and the whitespace
/// characters that attribute-value normalisation would turn into spaces.
fn escape_attribute(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::simulate::events::Payload;

    fn sample() -> SimEvent {
        let t = Utc.with_ymd_and_hms(2023, 5, 29, 3, 39, 22).unwrap();
        SimEvent::eventlog_stopped(t, 64847, "EC2AMAZ-NEUK2LF")
    }

    #[test]
    fn event_line_has_single_quotes_and_no_root() {
        let xml = to_wevtutil_xml(&[sample()]);
        assert!(xml.starts_with("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>"));
        assert!(xml.contains("<Provider Name='EventLog'/>"));
        assert!(xml.contains("<EventID Qualifiers='32768'>6006</EventID>"));
        assert!(xml.contains("<TimeCreated SystemTime='2023-05-29T03:39:22.0000000Z'/>"));
        assert!(xml.contains("<Correlation/><Execution ProcessID='0' ThreadID='0'/>"));
        assert!(xml.contains("<Security/></System><EventData><Binary>0100000000000000</Binary></EventData></Event>"));
        assert!(xml.ends_with("</Event>\r\n"));
        assert_eq!(xml.matches("\r\n").count(), 1);
    }

    #[test]
    fn one_line_per_event() {
        let xml = to_wevtutil_xml(&[sample(), sample(), sample()]);
        assert_eq!(xml.lines().count(), 3);
        assert!(xml.lines().all(|l| l.starts_with("<Event xmlns=") && l.ends_with("</Event>")));
    }

    #[test]
    fn text_escapes_markup_and_carriage_return() {
        let mut out = String::new();
        escape_text(&mut out, "a&b<c>d\r\n'\"");
        assert_eq!(out, "a&amp;b&lt;c&gt;d&#13;\n'\"");
    }

    #[test]
    fn attribute_escapes_quotes_and_whitespace() {
        let mut out = String::new();
        escape_attribute(&mut out, "x'y\"z\t\n&");
        assert_eq!(out, "x&apos;y&quot;z&#9;&#10;&amp;");
    }

    #[test]
    fn empty_data_is_open_and_close() {
        let mut e = sample();
        e.payload = Payload::EventData(vec![(None, String::new()), (Some("param1".into()), "v".into())]);
        let xml = to_wevtutil_xml(&[e]);
        assert!(xml.contains("<EventData><Data></Data><Data Name='param1'>v</Data></EventData>"));
    }
}
