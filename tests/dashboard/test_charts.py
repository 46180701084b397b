"""The server-rendered SVG charts are well-formed, labelled and carry every value as text."""

from xml.etree import ElementTree

from registry.dashboard import charts

SVG = "{http://www.w3.org/2000/svg}"


def test_bar_chart_is_accessible_svg_with_every_value():
    svg = charts.bar_chart([("2026-11", 3), ("2026-12", 0), ("2027-01", 12)], title="到期<数>", unit="个")
    root = ElementTree.fromstring(str(svg))
    assert root.get("role") == "img" and root.get("aria-labelledby")
    assert root.find(f"{SVG}title").text == "到期<数>"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"3", "0", "12", "2026-11", "2027-01"} <= set(texts)
    assert [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g")][2] == "2027-01：12个"


def test_stacked_chart_sums_each_row_and_wraps_its_legend():
    names = [f"很长的称号名称第{i}个层级" for i in range(6)]
    svg = charts.stacked_bar_chart(["台州市", "杭州市"], [(n, [i, 1]) for i, n in enumerate(names)], title="t")
    root = ElementTree.fromstring(str(svg))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "15" in texts and "6" in texts  # row totals: 0+1+…+5 and six ones
    legend_rows = {r.get("y") for r in root.iter(f"{SVG}rect") if r.get("width") == "12"}
    assert len(legend_rows) > 1
    assert int(root.get("width")) == charts.STACKED_WIDTH
