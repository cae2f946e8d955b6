"""The rule engine: validation errors, operators, globs, captures, determinism and speed."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from wardwatch.identify.fingerprint import RuleError, RuleSet

HEADER = """
[family]
id = "acme"
name = "Acme test family"
clinical = false
sources = ["unit test"]
"""


def _write(tmp_path: Path, body: str, name: str = "acme.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, "utf-8")
    return path


def test_operators_globs_captures_and_explanation(tmp_path: Path) -> None:
    path = _write(tmp_path, r"""
[[rule]]
id = "acme.cam"
confidence = 0.6
attributes = { device_class = "camera", vendor = "Acme", model = "Cam {model}", firmware = "{fw}" }
all = [ { kind = "mdns.txt.*", regex = '^acme cam (?P<model>\w+)$' } ]
any = [ { kind = "dhcp.vendor_class", prefix = "acme" }, { kind = "http.server", equals = "acmehttpd" } ]
none = [ { kind = "dhcp.hostname", contains = "printer" } ]
support = [ { kind = "http.server", regex = '^acmehttpd/(?P<fw>[\d.]+)$', weight = 0.2 } ]
""")
    rules = RuleSet.load([path])
    facts = {"mdns.txt.ty": ["ACME Cam X9"], "dhcp.vendor_class": ["ACME-udhcp"], "http.server": ["AcmeHTTPd/2.1"]}
    (m,) = rules.evaluate(facts)
    assert m.rule_id == "acme.cam"
    assert dict(m.attributes) == {"device_class": "camera", "vendor": "Acme", "model": "Cam X9", "firmware": "2.1"}
    assert m.confidence == pytest.approx(0.8)
    assert set(m.matched) == {("mdns.txt.ty", "ACME Cam X9"), ("dhcp.vendor_class", "ACME-udhcp"),
                              ("http.server", "AcmeHTTPd/2.1")}
    # without the support fact: lower confidence, no firmware (its placeholder is unfilled)
    (m2,) = rules.evaluate({"mdns.txt.ty": ["acme cam X9"], "dhcp.vendor_class": ["acme"]})
    assert m2.confidence == pytest.approx(0.6) and "firmware" not in m2.attributes
    # "any" unmet, or an excluded fact present: no match
    assert rules.evaluate({"mdns.txt.ty": ["acme cam X9"]}) == []
    assert rules.evaluate({**facts, "dhcp.hostname": ["acme-printer-2"]}) == []


def test_order_is_deterministic(tmp_path: Path) -> None:
    body = "".join(f"""
[[rule]]
id = "acme.r{i}"
confidence = {0.5 if i % 2 else 0.7}
attributes = {{ vendor = "Acme" }}
any = [ {{ kind = "dhcp.hostname", contains = "acme" }} ]
""" for i in range(6))
    rules = RuleSet.load([_write(tmp_path, body)])
    ids = [m.rule_id for m in rules.evaluate({"dhcp.hostname": {"acme-1", "acme-2"}})]
    assert ids == ["acme.r0", "acme.r2", "acme.r4", "acme.r1", "acme.r3", "acme.r5"]
    assert ids == [m.rule_id for m in rules.evaluate({"dhcp.hostname": ["acme-2", "acme-1"]})]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[[rule]]\nid = "acme.x"\nconfidence = 1.5\nattributes = { vendor = "A" }\n'
         'any = [{ kind = "dhcp.hostname", equals = "a" }]', "rule[0].confidence"),
        ('[[rule]]\nid = "acme.x"\nconfidence = 0.5\nattributes = { device_class = "toaster" }\n'
         'any = [{ kind = "dhcp.hostname", equals = "a" }]', "rule[0].attributes.device_class"),
        ('[[rule]]\nid = "acme.x"\nconfidence = 0.5\nattributes = { vendor = "A" }\n'
         "any = [{ kind = \"dhcp.hostname\", regex = '(a+)+$' }]", "rule[0].any[0].regex"),
        ('[[rule]]\nid = "acme.x"\nconfidence = 0.5\nattributes = { vendor = "A" }\n'
         "any = [{ kind = \"dhcp.hostname\", regex = '([' }]", "rule[0].any[0].regex"),
        ('[[rule]]\nid = "acme.x"\nconfidence = 0.5\nattributes = { model = "{m}" }\n'
         'any = [{ kind = "dhcp.hostname", equals = "a" }]', "placeholder {m}"),
        ('[[rule]]\nid = "other.x"\nconfidence = 0.5\nattributes = { vendor = "A" }\n'
         'any = [{ kind = "dhcp.hostname", equals = "a" }]', "rule[0].id"),
        ('[[rule]]\nid = "acme.x"\nconfidence = 0.5\nattributes = { vendor = "A" }\n'
         'any = [{ kind = "dhcp.hostname", equals = "a", contains = "b" }]', "rule[0].any[0]"),
        ('[[rule]]\nid = "acme.x"\nconfidence = 0.5\nattributes = { colour = "A" }\n'
         'all = [{ kind = "DHCP", equals = "a" }]', "rule[0].all[0].kind"),
    ],
)
def test_bad_rule_file_names_file_and_field(tmp_path: Path, body: str, needle: str) -> None:
    path = _write(tmp_path, body, "broken.toml")
    with pytest.raises(RuleError) as err:
        RuleSet.load([path])
    assert "broken.toml" in str(err.value) and needle in str(err.value)


def test_not_toml_and_missing_family(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[rule]\n", "utf-8")
    nofam = tmp_path / "nofam.toml"
    nofam.write_text('[[rule]]\nid = "x.y"\n', "utf-8")
    with pytest.raises(RuleError) as err:
        RuleSet.load([tmp_path])
    assert "bad.toml: not valid TOML" in str(err.value) and "nofam.toml: [family]" in str(err.value)


def test_duplicate_rule_ids_across_files(tmp_path: Path) -> None:
    rule = '[[rule]]\nid = "acme.x"\nconfidence = 0.5\nattributes = { vendor = "A" }\n' \
           'any = [{ kind = "dhcp.hostname", equals = "a" }]\n'
    a = _write(tmp_path, rule, "a.toml")
    b = tmp_path / "b.toml"
    b.write_text(HEADER.replace('"acme"', '"acme2"', 1) + rule.replace("acme.x", "acme.x"), "utf-8")
    with pytest.raises(RuleError):
        RuleSet.load([a, b])


def test_hostile_values_are_cheap() -> None:
    rules = RuleSet.load_default()
    start = time.perf_counter()
    facts = {kind: ["a" * 100_000 + "!"] for kind in ("dhcp.hostname", "astm.model", "sdc.model", "http.server")}
    rules.evaluate(facts)
    assert time.perf_counter() - start < 0.5


def test_evaluates_100k_devices_in_seconds() -> None:
    rules = RuleSet.load_default()
    kinds = [
        {"mac.vendor": ["Philips Medical Systems - Cardiac and Monitoring Systems (CM"], "dhcp.hostname": ["mx800"]},
        {"mac.vendor": ["Dell Inc."], "dhcp.vendor_class": ["MSFT 5.0"], "dns.query": ["www.example.org"]},
        {"dicom.implementation_uid": ["1.2.840.113619.6.5"], "dicom.role": ["modality"], "dicom.modality": ["CT"]},
        {"astm.sender": ["DCA VANTAGE^04.04.00.00^S1"], "astm.model": ["DCA VANTAGE"]},
        {"ssdp.server": ["Linux/3.14.0 UPnP/1.0 IpBridge/1.9.0"], "mdns.txt.model": ["iPhone14,2"]},
    ]
    # 100 000 distinct devices (fresh dicts, varied hostnames): nothing is cached between devices
    devices = [{**kinds[i % len(kinds)], "dhcp.hostname": [f"host-{i}"]} for i in range(100_000)]
    start = time.perf_counter()
    fired = sum(len(rules.evaluate(device)) for device in devices)
    elapsed = time.perf_counter() - start
    assert fired >= 100_000
    assert elapsed < 20, elapsed
