"""A reviewer reads 3968 where the solver returned 3967.999999999996, and a delta of 0 where two solves differ by
2.4e-07 on $1.09B (planner/output/xlsx.py: clean, change)."""

from planner.output.xlsx import change, clean


def test_whole_number_noise_is_the_whole_number():
    assert clean(3967.999999999996) == 3968.0
    assert clean(89988000.00000001) == 89988000.0
    assert clean(-7695.999999999924) == -7696.0
    assert clean(0.9999999999999905) == 1.0


def test_real_fractions_stay():
    for value in (0.3, 261.224, 1085610001.23, 4.47e-08, 2.5, 1e300):
        assert clean(value) == value


def test_change_drops_noise_but_keeps_real_differences():
    assert change(1085610000.777777, 1085610000.7777768) == 0.0
    assert change(1198643000.0000002, 1198635000.0) == -8000.0
    assert change(0.002393825506855024, 0.002393711668311433) < 0  # a real change in a small number
    assert change(100.0, 101.5) == 1.5
