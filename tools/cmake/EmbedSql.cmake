# SPDX-License-Identifier: Apache-2.0
# embed_sql(OUT_CPP DIR): turns every DIR/NNNN_*.sql into a C++ array of
# migrations {version, name, sql} so the binary carries its own schema.
function(embed_sql out_cpp dir)
  file(GLOB sql_files CONFIGURE_DEPENDS "${dir}/[0-9][0-9][0-9][0-9]_*.sql")
  list(SORT sql_files)
  set(body "")
  foreach(f IN LISTS sql_files)
    get_filename_component(name "${f}" NAME)
    string(SUBSTRING "${name}" 0 4 ver)
    math(EXPR ver "${ver}")
    file(READ "${f}" sql)
    string(APPEND body "    {${ver}, \"${name}\", R\"sqlembed(${sql})sqlembed\"},\n")
  endforeach()
  set(content "// Generated from schema/*.sql by tools/cmake/EmbedSql.cmake. Do not edit.\n#include \"store/migrations.hpp\"\nnamespace scepra::store {\nconst std::vector<Migration>& migrations() {\n  static const std::vector<Migration> all = {\n${body}  };\n  return all;\n}\n}  // namespace scepra::store\n")
  file(CONFIGURE OUTPUT "${out_cpp}" CONTENT "${content}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${sql_files})
endfunction()
