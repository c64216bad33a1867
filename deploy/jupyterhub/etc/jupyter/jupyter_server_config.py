"""System-wide Jupyter server configuration for the teachkit hub (goes in /etc/jupyter/).

* Kernel culling.  Lessons run as Voila pages inside each user's server (the
  Voila *server extension*): there Voila's own voila.json culling is ignored and
  the server's MappingKernelManager culls idle kernels.
* nbgrader per role.  The hub sets TEACHKIT_COURSE_ROLE for every server it
  starts: instructors get the formgrader and the course list, students only
  the assignment list (fetch, submit, feedback) and the validate button.
  This only hides the instructor's pages; what protects the course is that it
  lives in the instructor's private home (0700), unreadable by any student.
"""

import os

c = get_config()  # noqa: F821

c.MappingKernelManager.cull_idle_timeout = int(os.environ.get("TEACHKIT_KERNEL_CULL_IDLE_TIMEOUT", "900"))
c.MappingKernelManager.cull_interval = int(os.environ.get("TEACHKIT_KERNEL_CULL_INTERVAL", "60"))
# A lesson tab still open keeps its kernel (its sliders keep working); the hub's
# idle culler stops the whole server after TEACHKIT_HUB_SERVER_CULL_TIMEOUT.
c.MappingKernelManager.cull_connected = False
c.MappingKernelManager.cull_busy = False

instructor = os.environ.get("TEACHKIT_COURSE_ROLE") == "instructor"
# Values set here win over the extensions' own jupyter_server_config.d/*.json files.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": instructor,
    "nbgrader.server_extensions.course_list": instructor,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.validate_assignment": True,
}
