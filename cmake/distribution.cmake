# What a distribution package holds besides the library and the tools: manual pages generated
# from docs/man/, bash completion, the systemd units, the default daemon configuration, the
# socket directory (tmpfiles.d), the licence; and the Debian package (`cpack -G DEB`).
find_package(Python3 REQUIRED COMPONENTS Interpreter)

# ---- manual pages: docs/man/<page>.md -> roff, gzipped as Debian ships them ----------------
set(man_outputs)
foreach(page virtpp.1 virtppd.8 virtppd.conf.5 virtpp-xml-validate.1)
  string(REGEX MATCH "[0-9]$" section ${page})
  set(source ${PROJECT_SOURCE_DIR}/docs/man/${page}.md)
  set(output ${PROJECT_BINARY_DIR}/man/${page})
  set(extra)
  set(deps)
  if(page STREQUAL "virtpp.1")
    # the COMMANDS section is the built virtpp's own command list
    set(extra --commands $<TARGET_FILE:virtpp>)
    set(deps virtpp)
  endif()
  add_custom_command(OUTPUT ${output}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/scripts/gen/man.py ${source} ${output} ${PROJECT_VERSION} ${extra}
    COMMAND gzip -9nf ${output}
    DEPENDS ${source} ${PROJECT_SOURCE_DIR}/scripts/gen/man.py ${deps}
    COMMENT "Generating the manual page ${page}"
    VERBATIM)
  list(APPEND man_outputs ${output}.gz)
  install(FILES ${output}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()
add_custom_target(virtpp_man ALL DEPENDS ${man_outputs})

# ---- bash completion, licence --------------------------------------------------------------
install(FILES packaging/bash-completion/virtpp DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
install(FILES LICENSE packaging/debian/copyright DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/virtpp)

# ---- systemd units, tmpfiles.d, default configuration ---------------------------------------
# Relative to the prefix (/usr/lib/systemd/system for /usr; systemd also reads /usr/local/lib).
# The configuration follows GNUInstallDirs: /etc for the prefix /usr, else <prefix>/etc, so an
# install into a scratch prefix never writes outside it.
foreach(unit virtppd.service virtppd.socket virtppd-ro.socket)
  configure_file(packaging/systemd/${unit}.in ${PROJECT_BINARY_DIR}/systemd/${unit} @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/systemd/${unit} DESTINATION lib/systemd/system)
endforeach()
install(FILES packaging/tmpfiles.conf DESTINATION lib/tmpfiles.d RENAME virtpp.conf)
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(VIRTPP_CONFIG_DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/virtpp)
else()
  set(VIRTPP_CONFIG_DESTINATION ${CMAKE_INSTALL_SYSCONFDIR}/virtpp)
endif()
install(FILES packaging/virtppd.conf DESTINATION ${VIRTPP_CONFIG_DESTINATION})
if(IS_ABSOLUTE ${VIRTPP_CONFIG_DESTINATION})
  set(VIRTPP_CONFFILE ${VIRTPP_CONFIG_DESTINATION}/virtppd.conf)
else()
  set(VIRTPP_CONFFILE ${CMAKE_INSTALL_PREFIX}/${VIRTPP_CONFIG_DESTINATION}/virtppd.conf)
endif()
# dpkg keeps an administrator's edits of a conffile across upgrades and removes it on purge
file(WRITE ${PROJECT_BINARY_DIR}/debian/conffiles "${VIRTPP_CONFFILE}\n")

# ---- the Debian package ---------------------------------------------------------------------
# Build it from a tree configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/package.sh does):
# the paths compiled into the tools (schemas, configuration) are the package's.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME virtpp)
set(CPACK_PACKAGE_VENDOR "virtpp")
set(CPACK_PACKAGE_CONTACT "virtpp maintainers <virtpp@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "libvirt's virtualization API in C++20: virtpp, virtppd and the library")
set(CPACK_PACKAGE_DESCRIPTION "virtpp rebuilds libvirt's virtualization management API as a header-heavy C++20 library,
with its daemon virtppd (libvirt's remote protocol: stock virsh and python3-libvirt talk to it,
socket-activated by systemd) and its virsh-compatible command line virtpp.")
set(CPACK_PACKAGE_FILE_NAME "${CPACK_PACKAGE_NAME}_${PROJECT_VERSION}_amd64")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://libvirt.org/")
# the tools are static but for glibc; the library's users need the headers' dependencies
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "qemu-system-x86, bash-completion")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libboost1.81-dev, libboost-json1.81-dev, libxerces-c-dev, libbotan-2-dev")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${PROJECT_SOURCE_DIR}/packaging/debian/postinst
  ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
  ${PROJECT_SOURCE_DIR}/packaging/debian/postrm
  ${PROJECT_BINARY_DIR}/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
