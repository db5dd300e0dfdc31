# The OpenGL example: found or skipped, with a line saying which.
#
# gl-renderer needs EGL and desktop OpenGL headers and libraries (Debian:
# libegl-dev libgl-dev; at run time libegl-mesa0 and libgl1-mesa-dri give
# Mesa's llvmpipe, which needs no GPU).  The OpenGL ES fallback context is
# called through the same libOpenGL entry points: with libglvnd both
# dispatch to the current context, whichever API it has.
find_package(OpenGL COMPONENTS OpenGL EGL)
set(sf_gl_missing)
if(NOT OpenGL_OpenGL_FOUND)
  list(APPEND sf_gl_missing "libOpenGL with GL/gl.h, Debian libgl-dev")
endif()
if(NOT OpenGL_EGL_FOUND)
  list(APPEND sf_gl_missing "libEGL with EGL/egl.h, Debian libegl-dev")
endif()
# Its option parsing and pacing are the tools' (client/tools/tool-common.c).
if(NOT TARGET shmframe_tools_common)
  list(APPEND sf_gl_missing "the tools' common code, SHMFRAME_BUILD_TOOLS")
endif()
if(sf_gl_missing)
  list(JOIN sf_gl_missing "; " sf_gl_missing)
  message(STATUS "shmframe: OpenGL example: skipped (not found: ${sf_gl_missing})")
  return()
endif()

add_executable(gl-renderer gl-renderer.c gl-egl.c gl-scene.c gl-check.c)
# glext.h's prototypes: the framebuffer and shader calls beyond OpenGL 1.1.
target_compile_definitions(gl-renderer PRIVATE GL_GLEXT_PROTOTYPES)
target_include_directories(gl-renderer PRIVATE ${PROJECT_SOURCE_DIR}/client/tools)
target_link_libraries(gl-renderer PRIVATE shmframe_tools_common shmframe shmframe_warnings
  OpenGL::OpenGL OpenGL::EGL m)
message(STATUS "shmframe: OpenGL example: gl-renderer (EGL ${OPENGL_egl_LIBRARY}, OpenGL ${OPENGL_opengl_LIBRARY})")
