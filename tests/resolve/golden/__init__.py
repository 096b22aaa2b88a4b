"""The golden address set: a hand-made region and hand-labelled addresses (see test_golden)."""
