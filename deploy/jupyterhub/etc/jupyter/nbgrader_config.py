"""System-wide nbgrader configuration for the teachkit hub (goes in /etc/jupyter/).

Every user's server reads it: students need only the course id and the
exchange.  The course root is NOT set here: it is private to the instructor
(~/course, see the guide) and set by ~/.jupyter/nbgrader_config.py there.
"""

import os

c = get_config()  # noqa: F821

c.CourseDirectory.course_id = "teachkit-survival"  # as in course/nbgrader_config.py
# Root-owned, mode 1777 (anyone may create the course folder; the sticky bit keeps
# others from renaming or deleting it).  nbgrader then makes <course>/inbound 2733
# (students can drop submissions but not list them) and <course>/outbound 0755.
c.Exchange.root = os.environ.get("TEACHKIT_NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
# One course per hub: fetched assignments go to ~/<assignment>, not ~/<course>/<assignment>.
c.Exchange.path_includes_course = False
