# Copies one of etcd's v3 .proto files into the build tree without the
# gogoproto and google.api annotations, which only matter to etcd's Go code
# and its HTTP gateway, so that plain protoc can compile it for C++.
#   cmake -DINPUT=<etcd .proto> -DOUTPUT=<stripped copy> -P strip_etcd_proto.cmake
if(NOT INPUT OR NOT OUTPUT)
  message(FATAL_ERROR "strip_etcd_proto: pass -DINPUT= and -DOUTPUT=")
endif()
file(READ "${INPUT}" text)
string(REGEX REPLACE "import \"gogoproto/[^\"]*\";" "" text "${text}")
string(REGEX REPLACE "import \"google/api/[^\"]*\";" "" text "${text}")
string(REGEX REPLACE "option \\(gogoproto\\.[a-z_]+\\) = [a-z]+;" "" text "${text}")
# The HTTP bindings nest at most one level ("additional_bindings { ... }").
string(REGEX REPLACE "option \\(google\\.api\\.http\\) = {([^{}]*{[^{}]*})*[^{}]*};" "" text "${text}")
# Field options such as [(gogoproto.nullable) = false].
string(REGEX REPLACE "\\[\\(gogoproto\\.[^]]*\\]" "" text "${text}")
if(text MATCHES "gogoproto\\.|google\\.api\\.")
  message(FATAL_ERROR "strip_etcd_proto: annotations left in ${INPUT}")
endif()
file(WRITE "${OUTPUT}" "${text}")
