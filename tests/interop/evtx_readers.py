#!/usr/bin/env python3
"""Interop check of poolscope's simulated event writers with python-evtx (an independent reader).

    evtx_readers.py SAMPLE.evtx SAMPLE.xml SAMPLE.json [LIBEVTX.xml]

SAMPLE.* come from `cargo run --example write_sample_evtx -- DIR`: the binary log, the same events
in `wevtutil qe /f:xml` form, and the simulated events themselves (serde JSON of `SimEvent`).

Checks (writer spec reference/evtx-writer-spec.md §9-§12):
  * python-evtx's FileHeader.verify() and every ChunkHeader.verify() are true (version 3.1, CRCs);
  * it reads every record (it trusts the header's chunk count, spec P3), in record-id order;
  * each record's XML, parsed, is the same element tree as the wevtutil XML of that event (spec P15:
    names, attributes, leaf text; whitespace between elements ignored);
  * that tree carries the simulated values, restated here independently of the Rust writer
    (System fields, EventData, Binary, every 2004 UserData field and slot);
  * random access (get_record) works, which needs consistent name/template offsets (spec P9, P10).
With LIBEVTX.xml (the output of libyal's `evtxexport -f xml SAMPLE.evtx`, optional), its records
must be the same trees too. Exits 1 with the first differences on failure.
"""

import json
import sys
import xml.dom.minidom

from Evtx.Evtx import Evtx

EVENT_NS = "http://schemas.microsoft.com/win/2004/08/events/event"
RED_NS = "http://www.microsoft.com/Windows/Resource/Exhaustion/Detector/Events"
EMPTY_TIME = "1601-01-01T00:00:00.0000000Z"


def newline(text):
    """XML parsers turn CR LF and CR into LF (XML 1.0 §2.11); compare after the same step."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def tree(element):
    """(name, attributes, children, text) of a DOM element; text only for leaves (spec P15)."""
    children = [tree(c) for c in element.childNodes if c.nodeType == c.ELEMENT_NODE]
    text = "".join(c.data for c in element.childNodes if c.nodeType in (c.TEXT_NODE, c.CDATA_SECTION_NODE))
    if children and not text.strip():
        text = ""
    attrs = {k: newline(v) for k, v in element.attributes.items()}
    return (element.tagName, tuple(sorted(attrs.items())), tuple(children), newline(text))


class Node:
    """Path access over a tree() tuple."""

    def __init__(self, t):
        self.name, attrs, children, self.text = t
        self.attrs = dict(attrs)
        self.children = [Node(c) for c in children]

    def get(self, path):
        node = self
        for name in path.split("/"):
            found = [c for c in node.children if c.name == name]
            if not found:
                raise AssertionError("no <%s> under <%s> (path %s)" % (name, node.name, path))
            node = found[0]
        return node


def system_time(iso):
    """chrono's RFC 3339 (0-9 fraction digits) -> Windows' rendering with 7 digits (spec §7.1)."""
    iso = iso.rstrip("Z")
    if iso.endswith("+00:00"):
        iso = iso[: -len("+00:00")]
    whole, _, frac = iso.partition(".")
    return "%s.%sZ" % (whole, (frac + "0000000")[:7])


def expect_equal(problems, where, got, want):
    if got != want:
        problems.append("%s: got %r, want %r" % (where, got, want))


def check_values(node, ev, problems):
    rid = ev["record_id"]
    w = "record %d" % rid
    expect_equal(problems, w + " Event@xmlns", node.attrs.get("xmlns"), EVENT_NS)
    s = node.get("System")
    p = s.get("Provider")
    expect_equal(problems, w + " Provider@Name", p.attrs.get("Name"), ev["provider"])
    expect_equal(problems, w + " Provider@Guid", p.attrs.get("Guid"), ev["provider_guid"])
    expect_equal(problems, w + " Provider@EventSourceName", p.attrs.get("EventSourceName"), ev["event_source_name"])
    expect_equal(problems, w + " EventID", s.get("EventID").text, str(ev["event_id"]))
    q = ev["qualifiers"]
    expect_equal(problems, w + " Qualifiers", s.get("EventID").attrs.get("Qualifiers"), None if q is None else str(q))
    for field in ("version", "level", "task", "opcode"):
        expect_equal(problems, w + " " + field, s.get(field.capitalize()).text, str(ev[field]))
    expect_equal(problems, w + " Keywords", s.get("Keywords").text, "0x%x" % ev["keywords"])
    expect_equal(problems, w + " SystemTime", s.get("TimeCreated").attrs.get("SystemTime"), system_time(ev["time"]))
    expect_equal(problems, w + " EventRecordID", s.get("EventRecordID").text, str(rid))
    expect_equal(problems, w + " Channel", s.get("Channel").text, ev["channel"])
    expect_equal(problems, w + " Computer", s.get("Computer").text, ev["computer"])
    expect_equal(problems, w + " Security@UserID", s.get("Security").attrs.get("UserID"), ev["user_sid"])

    payload = ev["payload"]
    if isinstance(payload, dict) and ("EventData" in payload or "EventDataBinary" in payload):
        if "EventData" in payload:
            data, binary = payload["EventData"], []
        else:
            data, binary = payload["EventDataBinary"]["data"], payload["EventDataBinary"]["binary"]
        ed = node.get("EventData")
        got = [(c.attrs.get("Name"), c.text) for c in ed.children if c.name == "Data"]
        want = [(name, newline(value)) for name, value in data]
        expect_equal(problems, w + " EventData/Data", got, want)
        got_bin = [c.text for c in ed.children if c.name == "Binary"]
        expect_equal(problems, w + " EventData/Binary", got_bin, ["".join("%02X" % b for b in binary)] if binary else [])
    elif isinstance(payload, dict) and "ResourceExhaustion" in payload:
        check_2004(node, payload["ResourceExhaustion"], w, problems)


def check_2004(node, info, w, problems):
    """Every UserData field of Resource-Exhaustion-Detector 2004 (events reference §1.1)."""
    m = node.get("UserData/MemoryExhaustionInfo")
    expect_equal(problems, w + " MemoryExhaustionInfo@xmlns", m.attrs.get("xmlns"), RED_NS)
    for path, key in (
        ("SystemCommitLimit", "commit_limit"),
        ("SystemCommitCharge", "commit_charge"),
        ("ProcessCommitCharge", "process_commit_charge"),
        ("PagedPoolUsage", "paged_pool_usage"),
        ("PhysicalMemorySize", "physical_memory_size"),
        ("PhysicalMemoryUsage", "physical_memory_usage"),
        ("NonPagedPoolUsage", "nonpaged_pool_usage"),
        ("Processes", "process_count"),
    ):
        expect_equal(problems, w + " SystemInfo/" + path, m.get("SystemInfo/" + path).text, str(info[key] or 0))
    for block, key in (("PagedPoolInfo", "paged_tags"), ("NonPagedPoolInfo", "nonpaged_tags")):
        expect_equal(problems, w + " " + block + " slots", len(m.get(block).children), 3)
        for slot in range(3):
            tag = info[key][slot] if slot < len(info[key]) else {"tag": "", "bytes": 0}
            base = "%s/Tag_%d/" % (block, slot + 1)
            expect_equal(problems, w + " " + base + "Name", m.get(base + "Name").text, tag["tag"])
            expect_equal(problems, w + " " + base + "PoolUsed", m.get(base + "PoolUsed").text, str(tag["bytes"]))
    expect_equal(problems, w + " ProcessInfo slots", len(m.get("ProcessInfo").children), 6)
    for slot in range(6):
        proc = info["processes"][slot] if slot < len(info["processes"]) else None
        base = "ProcessInfo/Process_%d/" % (slot + 1)
        want = {
            "Name": proc["name"] if proc else "",
            "ID": str(proc["pid"]) if proc else "0",
            "CreationTime": system_time(proc["created_at"]) if proc and proc["created_at"] else EMPTY_TIME,
            "CommitCharge": str(proc["commit_charge"]) if proc else "0",
            "HandleCount": str(proc["handle_count"]) if proc else "0",
            "Version": "0.0.0.0",
        }
        for leaf, value in want.items():
            expect_equal(problems, w + " " + base + leaf, m.get(base + leaf).text, value)
    detected = system_time(info["detected_at"]) if info["detected_at"] else EMPTY_TIME
    expect_equal(problems, w + " ExhaustionEventInfo/Time", m.get("ExhaustionEventInfo/Time").text, detected)


def libevtx_view(t):
    """A tree() as the Debian build of libevtx (20181227) can render it: it decodes characters
    outside the BMP wrongly (U+1F600 comes out as U+1F201) and drops whitespace-only values. Both
    are that old build's rendering bugs, not the file's; this view masks exactly those two."""
    name, attrs, children, text = t
    text = "".join("\ufffd" if ord(c) > 0xFFFF else c for c in text)
    if not text.strip():
        text = ""
    return (name, attrs, tuple(libevtx_view(c) for c in children), text)


def check_libevtx(path, xml_events, problems):
    """Records of `evtxexport -f xml` (a banner line, then one indented <Event> per record)."""
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    text = text[text.find("<Event"):] if "<Event" in text else ""
    exported = xml.dom.minidom.parseString("<root>" + text + "</root>").documentElement
    events = [c for c in exported.childNodes if c.nodeType == c.ELEMENT_NODE]
    expect_equal(problems, "records exported by libevtx", len(events), len(xml_events))
    for i, (got, want) in enumerate(zip(events, xml_events)):
        if libevtx_view(tree(got)) != libevtx_view(tree(want)):
            problems.append("libevtx record %d differs from the wevtutil XML:\n  %r\n  %r" % (i + 1, tree(got), tree(want)))
            if len(problems) > 20:
                break
    return len(events)


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    evtx_path, xml_path, json_path = argv[1:4]
    with open(json_path, encoding="utf-8") as f:
        events = json.load(f)
    with open(xml_path, encoding="utf-8", newline="") as f:
        wevtutil = xml.dom.minidom.parseString("<root>" + f.read() + "</root>").documentElement
    xml_events = [c for c in wevtutil.childNodes if c.nodeType == c.ELEMENT_NODE]
    problems = []
    expect_equal(problems, "events in the wevtutil XML", len(xml_events), len(events))

    with Evtx(evtx_path) as log:
        header = log.get_file_header()
        if not header.verify():
            problems.append("FileHeader.verify() is false")
        chunks = list(log.chunks())
        for i, chunk in enumerate(chunks):
            if not chunk.verify():
                problems.append("chunk %d: ChunkHeader.verify() is false" % i)
        records = list(log.records())
        expect_equal(problems, "records read by python-evtx", len(records), len(events))
        for ev, record, xml_event in zip(events, records, xml_events):
            rid = ev["record_id"]
            expect_equal(problems, "record id", record.record_num(), rid)
            try:
                got = tree(xml.dom.minidom.parseString(record.xml()).documentElement)
            except Exception as exc:  # a record python-evtx cannot render, or renders as invalid XML
                problems.append("record %d: %s: %s" % (rid, type(exc).__name__, exc))
                continue
            want = tree(xml_event)
            if got != want:
                problems.append("record %d: python-evtx tree differs from the wevtutil XML:\n  %r\n  %r" % (rid, got, want))
            check_values(Node(got), ev, problems)
            if len(problems) > 20:
                break
        # Random access goes through the chunk's name and template offsets (spec P9, P10).
        for ev in events[:: max(1, len(events) // 7)]:
            record = log.get_record(ev["record_id"])
            if record is None:
                problems.append("get_record(%d) found nothing" % ev["record_id"])
            else:
                xml.dom.minidom.parseString(record.xml())

    libevtx_records = check_libevtx(argv[4], xml_events, problems) if len(argv) == 5 else None

    if problems:
        print("evtx interop FAILED (%d problems):" % len(problems), file=sys.stderr)
        for p in problems[:20]:
            print("  " + p, file=sys.stderr)
        return 1
    print(
        "python-evtx: %d records in %d chunks; file header and every chunk verify(); every record's tree equals "
        "the wevtutil XML and carries the simulated values" % (len(records), len(chunks))
    )
    if libevtx_records is not None:
        print("libevtx evtxexport: %d records, every tree equals the wevtutil XML "
              "(outside-BMP characters and whitespace-only values masked: that build's own bugs)" % libevtx_records)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
