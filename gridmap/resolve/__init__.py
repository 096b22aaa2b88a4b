"""Resolution: addresses and points to grids, buildings and chiefs.

:mod:`~gridmap.resolve.points` and :mod:`~gridmap.resolve.addresses` hold the two use
cases, :mod:`~gridmap.resolve.batch` runs many rows of either, :mod:`~gridmap.resolve.matching`
the pure matching rules and :mod:`~gridmap.resolve.rows` the mapping of look-up rows to
results. Call them through :class:`gridmap.service.Gridmap`, which owns the connection and
the gazetteer.
"""
