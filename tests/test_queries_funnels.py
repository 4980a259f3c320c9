"""funnels/conversion beyond its fixture (tests/fixtures/queries/funnels/conversion.yaml)."""

from __future__ import annotations

import analyses_data as fx
import pytest


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return fx.build(tmp_path_factory.mktemp("q-funnels"))


def test_steps_are_required(data):
    from rumq.errors import ParameterError

    with pytest.raises(ParameterError, match="steps"):
        fx.run(data, "funnels/conversion")
