from __future__ import annotations

import pytest

from tests.support import clinic_with_psychologist, patient_body


@pytest.fixture
def world(api, admin, scheduler):
    """A NY site with two rooms, a NY-licensed psychologist working there Mon-Fri 09-17, a NY patient."""
    return {**clinic_with_psychologist(admin), "patient": scheduler.post("/v1/patients", patient_body()).json}


@pytest.fixture(autouse=True)
def _running_test(request):
    """Lets tests.support.after_commit() deliver the stream of the running test's moto backend."""
    from tests import support

    support._TEST.append(request)
    yield
    support._TEST.pop()
