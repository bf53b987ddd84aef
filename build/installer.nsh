; Included by electron-builder's NSIS installer (electron-builder.yml, nsis.include).
; "Send to > Ferry" in Explorer: a shortcut in the user's SendTo folder. Explorer passes the chosen
; files as arguments, which reach the running Ferry as a second launch (main/app/launchArgs.ts).

!macro customInstall
  CreateShortCut "$SENDTO\${PRODUCT_NAME}.lnk" "$INSTDIR\${APP_EXECUTABLE_FILENAME}" "" "$INSTDIR\${APP_EXECUTABLE_FILENAME}" 0
!macroend

!macro customUnInstall
  Delete "$SENDTO\${PRODUCT_NAME}.lnk"
!macroend
