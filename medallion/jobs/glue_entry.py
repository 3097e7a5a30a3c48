"""AWS Glue job script: runs one step of the medallion pipeline (``--layer``).

The infrastructure uploads this file as the jobs' ``script_location``; all logic lives in the
``medallion`` wheel installed through ``--additional-python-modules``.
"""

from medallion.jobs.entry import main

if __name__ == "__main__":
    main()
