"""Many captures at once: one analysis per file on a Dask cluster (issue 36).

The core is a pure function from one file to an
:class:`~ids_desktop.core.analysis.Analysis` (:func:`ids_desktop.core.workflow.run_analysis`);
this package runs it once per file on Dask's ``distributed`` scheduler, a
``LocalCluster`` started for the run by default or an existing cluster, and writes the
results under one folder:

- :mod:`.files` turns the command line's paths (files, folders, globs) into the inputs;
- :mod:`.task` is what a worker runs for one file;
- :mod:`.outputs` is the output folder's layout, its atomic writes and the resume check;
- :mod:`.merge` joins incidents of one source across files (the one-file grouping rule);
- :mod:`.run` is the driver: the cluster, the tasks, progress, cancel and the summary.

The core never imports this package (``lint-imports`` checks it), nor Dask.
"""

from __future__ import annotations

from ids_desktop.batch.run import BatchResult, run_batch

__all__ = ["BatchResult", "run_batch"]
