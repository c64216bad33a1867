"""System-wide Jupyter server configuration for the teachkit hub (goes in /etc/jupyter/).

* Kernel culling.  Lessons run as Voila pages inside each user's server (the
  Voila *server extension*): there Voila's own voila.json culling is ignored and
  the server's MappingKernelManager culls idle kernels.
* Lesson kernels.  teachkit's server extension (enabled by the wheel's
  jupyter_server_config.d/teachkit.json) bounds the kernels Voila starts for lesson pages:
  at most TEACHKIT_LESSON_MAX_KERNELS [4] per user server (a student has a server of
  their own), the page over it told that the server is full; a lesson page closed is
  culled after TEACHKIT_LESSON_CULL_CLOSED [120] s, one left open and unused after
  TEACHKIT_KERNEL_CULL_IDLE_TIMEOUT; each lesson kernel runs under an address-space
  limit of TEACHKIT_LESSON_KERNEL_MEMORY [1G].  Notebook kernels are not touched.
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

c.LessonServer.max_kernels = int(os.environ.get("TEACHKIT_LESSON_MAX_KERNELS", "4"))
c.LessonServer.kernels_per_learner = c.LessonServer.max_kernels
c.LessonServer.kernel_memory = os.environ.get("TEACHKIT_LESSON_KERNEL_MEMORY", "1G")
c.LessonServer.cull_closed_after = int(os.environ.get("TEACHKIT_LESSON_CULL_CLOSED", "120"))
c.LessonServer.cull_idle_after = c.MappingKernelManager.cull_idle_timeout

instructor = os.environ.get("TEACHKIT_COURSE_ROLE") == "instructor"
# Values set here win over the extensions' own jupyter_server_config.d/*.json files.
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": instructor,
    "nbgrader.server_extensions.course_list": instructor,
    "nbgrader.server_extensions.assignment_list": True,
    "nbgrader.server_extensions.validate_assignment": True,
}
