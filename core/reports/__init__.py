"""Reports: the experiment log of runs (markdown with its images, or a zip of both), the results summary of a
set of runs (grouped tables sorted by a chosen metric, with key takeaways; markdown, CSV or LaTeX), and exports
of the runs table and of any run's metrics as CSV or Parquet."""

GROUPINGS = ("group", "sweep", "seed group", "tag", "none")  # how a results summary groups its runs
