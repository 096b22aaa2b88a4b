"""gridmap: geospatial grid management for grassroots governance (网格化服务管理)."""

__version__ = "0.1.0"
