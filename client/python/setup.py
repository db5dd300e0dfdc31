# pip install ./client/python: the pure-Python package; it loads
# libshmframe.so.1 from the system's library path (cmake --install, then
# ldconfig) or from $SHMFRAME_LIBRARY.  Setuptools only, nothing to
# download, so it installs without a network.
from setuptools import setup

setup(
    name="shmframe",
    version="1.4.0",
    description="Stream numpy images to a shmframe display server "
                "through shared memory",
    packages=["shmframe"],
    python_requires=">=3.7",
    install_requires=["numpy"],
)
