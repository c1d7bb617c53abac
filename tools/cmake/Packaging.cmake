# SPDX-License-Identifier: Apache-2.0
# Install rules beyond the scep-ra binary (ra/CMakeLists.txt), and the Debian
# package: `cmake --install build --prefix /usr`, or `cpack` in build/. The
# units name /usr/bin and /usr/lib/scep-ra: install with prefix /usr.

install(FILES config/scep-ra.service backends/adcs/bridge/scep-ra-adcs-bridge.service
        DESTINATION lib/systemd/system)

# The AD CS bridge: its Python package in a private directory beside its
# executable (which puts its own directory on sys.path), as its unit expects.
set(SCEPRA_BRIDGE_DIR lib/scep-ra/adcs-bridge)
install(PROGRAMS backends/adcs/bridge/scep-ra-adcs-bridge DESTINATION ${SCEPRA_BRIDGE_DIR})
install(DIRECTORY backends/adcs/bridge/scep_ra_adcs_bridge DESTINATION ${SCEPRA_BRIDGE_DIR}
        FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
# /usr/bin/scep-ra-adcs-bridge: a relative symlink, resolved by the executable's realpath.
file(CREATE_LINK ../lib/scep-ra/adcs-bridge/scep-ra-adcs-bridge ${CMAKE_CURRENT_BINARY_DIR}/scep-ra-adcs-bridge
     SYMBOLIC)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/scep-ra-adcs-bridge DESTINATION bin)

set(SCEPRA_DOC_DIR share/doc/scep-ra)
install(FILES README.md LICENSE config/ndes-registry-map.md DESTINATION ${SCEPRA_DOC_DIR})
install(FILES backends/adcs/bridge/README.md DESTINATION ${SCEPRA_DOC_DIR} RENAME adcs-bridge.md)
install(FILES config/scep-ra.conf.local config/scep-ra.conf.single-password config/scep-ra.conf.no-password
              config/scep-ra-adcs.conf config/scep-ra.conf.ejbca
              config/adcs-bridge.conf
        DESTINATION ${SCEPRA_DOC_DIR}/examples)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME scep-ra)
set(CPACK_PACKAGE_VENDOR "scep-ra")
set(CPACK_PACKAGE_CONTACT "scep-ra maintainers <scep-ra@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "SCEP registration authority (RFC 8894), drop-in for Microsoft NDES")
set(CPACK_PACKAGE_DESCRIPTION
    "Devices enrol over SCEP on the NDES URLs; scep-ra checks each request (signature, envelope, challenge password) and relays approved ones to a CA backend. Challenge passwords, requests and an audit trail live in SQLite. Includes the bridge to a Microsoft Enterprise CA (AD CS).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_STRIP_FILES TRUE)  # debug info stays in the build directory
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://github.com/scep-ra/scep-ra")
# Library dependencies from dpkg-shlibdeps (dpkg-dev); adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# Only the AD CS bridge needs Python: scep-ra itself runs without it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "python3, python3-impacket, python3-cryptography")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_CURRENT_SOURCE_DIR}/config/debian/postinst ${CMAKE_CURRENT_SOURCE_DIR}/config/debian/prerm
    ${CMAKE_CURRENT_SOURCE_DIR}/config/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
