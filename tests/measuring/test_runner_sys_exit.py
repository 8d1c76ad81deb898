"""A forward that calls sys.exit only while it is timed escaped Item.run, which caught Exception only: the runner
did not say which item asked to exit. It is now ItemFailed naming the item, as any other failure of its code;
an interrupt still goes through as it is."""

import sys

import pytest

from hwprof.measuring.runner import Item, ItemFailed, Method, Runner

QUICK = Method(precision=1e-9, max_item_s=0.5, min_sample_s=1e-4, max_other_share=1.0, seed=0)


def exits_on_call(calls: int):
    seen = []

    def call():
        seen.append(None)
        if len(seen) >= calls:
            sys.exit("timed calls stop")

    return call


def test_an_exit_while_timed_is_the_items_failure():
    with pytest.raises(ItemFailed) as raised:
        Item("conv2d 3", exits_on_call(2)).run(3)
    assert raised.value.key == "conv2d 3"
    assert isinstance(raised.value.error, SystemExit)
    assert raised.value.error.code == "timed calls stop"


def test_the_runner_names_the_item_that_exited_among_others():
    items = [Item("steady", lambda: None), Item("network", exits_on_call(20))]
    with pytest.raises(ItemFailed) as raised:
        Runner(QUICK).measure(items)
    assert raised.value.key == "network"
    assert isinstance(raised.value.error, SystemExit)


def test_an_interrupt_goes_through():
    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Item("network", interrupted).run(1)
