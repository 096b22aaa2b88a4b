"""An accuracy fixture made independently of the sample generator (see test_independent).

:mod:`.region` generates a seeded region in two districts the sample and the golden set do
not use (长春市绿园区, 吉林市丰满区); :mod:`.cases` writes labelled addresses for it with its
own writing rules, labelled from the region's description alone.
"""
