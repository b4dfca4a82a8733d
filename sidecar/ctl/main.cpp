// raftmetactl's entry point; everything is in ctl_app.cpp.
#include <iostream>

#include "sidecar/ctl/ctl_app.h"

int main(int argc, char** argv) { return raftmeta::ctl::run_ctl(argc, argv, std::cout, std::cerr); }
