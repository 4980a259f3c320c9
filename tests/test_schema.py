from pathlib import Path

from rumq import schema


def test_column_names_are_unique():
    assert len(schema.COLUMN_NAMES) == len(set(schema.COLUMN_NAMES))


def test_docs_schema_is_current():
    doc = Path(__file__).parent.parent / "docs" / "schema.md"
    assert doc.read_text() == schema.schema_markdown(), (
        "docs/schema.md is stale: python -m rumq.schema > docs/schema.md"
    )
