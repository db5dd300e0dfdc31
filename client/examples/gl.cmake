# The OpenGL example: found or skipped, with a line saying which.
message(STATUS "shmframe: OpenGL example: skipped (not written yet)")
