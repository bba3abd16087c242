# CPack: `cmake --build build/release --target package` makes a .deb and a .tar.gz.
set(CPACK_PACKAGE_NAME "nectar-toolbox")
set(CPACK_PACKAGE_VENDOR "Nectar Toolbox developers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "nectar-toolbox@localhost")
set(CPACK_GENERATOR "TGZ;DEB")
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libtorch1.13, libopenblas0-pthread, libqt6widgets6, libqt6printsupport6, libqcustomplot2.1-qt6")
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
install(FILES ${CMAKE_CURRENT_LIST_DIR}/nectar-toolbox.desktop DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
install(FILES ${PROJECT_SOURCE_DIR}/resources/icons/nectar-toolbox.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps OPTIONAL)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/resources/sample-data/ DESTINATION ${CMAKE_INSTALL_DATADIR}/nectar-toolbox/sample-data)
include(CPack)
