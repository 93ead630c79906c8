"""`newscorpus` as a Spark application, for spark-submit (which runs Python files, not console scripts):

    spark-submit --master spark://host:7077 scripts/spark_submit.py --root . validate RELEASE --engine spark

The validation then runs in the session spark-submit configures (master, resources, credentials).
"""

import sys

from newscorpus.cli import main

if __name__ == "__main__":
    sys.exit(main())
