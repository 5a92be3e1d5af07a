"""The metric registry drives docs/metrics.md and the labels; keep them in step."""

from pathlib import Path

from critac_metrics import registry

ROOT = Path(__file__).resolve().parent.parent


def test_docs_metrics_md_is_generated_from_the_registry():
    committed = (ROOT / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert committed == registry.metrics_markdown(), (
        "docs/metrics.md is stale: run `python -m critac_metrics docs > docs/metrics.md`"
    )


def test_every_metric_has_a_label_a_definition_and_a_known_format():
    for metric in registry.METRICS.values():
        assert metric.label and metric.description.endswith(".")
        assert metric.format(1234.5)  # raises for an unknown format


def test_people_friendly_formats():
    assert registry.format_value(1234, "count") == "1,234"
    assert registry.format_value(93.14, "pct") == "93.1%"
    assert registry.format_value(None, "pct") == "–"
    assert registry.format_value(float("nan"), "mean") == "–"
    assert registry.format_value(12.4, "days") == "12 days"


def test_docs_data_contract_md_is_generated_from_the_schema():
    from critac_metrics import schema

    committed = (ROOT / "docs" / "data-contract.md").read_text(encoding="utf-8")
    assert committed == schema.contract_markdown(), (
        "docs/data-contract.md is stale: run `python -m critac_metrics contract > docs/data-contract.md`"
    )
