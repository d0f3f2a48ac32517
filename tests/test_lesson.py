"""The lessons' shared helpers."""

from replsim.lesson import check_prediction


def test_check_prediction_says_right_wrong_or_asks_for_a_guess(capsys):
    assert check_prediction(None, 40, "Channel B is {} entries behind") is None
    assert check_prediction(40, 40, "Channel B is {} entries behind") is True
    assert check_prediction(39.5, 40, "{} entries", tolerance=1) is True
    assert check_prediction(7, 50, "{}% of the time", unit="%", explain="Half of every 100 ms.") is False
    assert check_prediction("many", 3, "{} rows", source="PostgreSQL") is False
    assert capsys.readouterr().out.splitlines() == [
        "Put your guess in my_prediction above, then run these cells again.",
        "Right: Channel B is 40 entries behind.",
        "Right: 40 entries.",
        "Not quite: you said 7%, the simulation says 50%. Half of every 100 ms.",
        "Not quite: you said many, PostgreSQL says 3.",
    ]
