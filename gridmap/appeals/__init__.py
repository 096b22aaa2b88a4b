"""Residents' appeals (接诉即办), pure: the workflow and its lights, who may do what, routing
by the responsibility list, deadlines in working time, and photo checks.

The I/O is elsewhere: responsibility-list files in :mod:`gridmap.io.duties`, SQL in
:mod:`gridmap.db.appeals` and :mod:`gridmap.db.duties`, the use cases in
:mod:`gridmap.service.appeals`.
"""
