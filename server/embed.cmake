# embed.cmake - turns server/openapi.json into a C array (tide__openapi_json) at build time, so
# the document the server serves is the one file in the source. -DIN=json -DOUT=c
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR bytes "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT} "/* generated from server/openapi.json by server/embed.cmake */\n#include <stddef.h>\nconst char tide__openapi_json[] = {${body} 0};\nconst size_t tide__openapi_len = ${bytes};\n")
