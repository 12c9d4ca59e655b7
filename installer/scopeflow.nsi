; Scopeflow's Windows installer (NSIS 3, Modern UI 2). Built by installer/build.py:
;   makensis -DVERSION=0.1.0 -DVERSION4=0.1.0.0 -DBUNDLE=<bundle folder>
;            -DOUTFILE=<setup.exe> -DICON=<.ico> [-DCOMPRESSION=lzma|zlib] scopeflow.nsi
; Per user, no administrator rights: the program goes to %LOCALAPPDATA%\Programs\Scopeflow,
; its registry entries to HKCU. The example scripts go to Documents\Scopeflow\scripts
; without replacing the user's files; the uninstaller never touches that folder.

Unicode true
Target amd64-unicode

!macro _Required NAME
  !ifndef ${NAME}
    !error "define ${NAME}: makensis -D${NAME}=... (installer/build.py passes VERSION, VERSION4, BUNDLE, OUTFILE, ICON)"
  !endif
!macroend
!insertmacro _Required VERSION
!insertmacro _Required BUNDLE
!insertmacro _Required OUTFILE
!insertmacro _Required ICON
!ifndef VERSION4
  !define VERSION4 "0.0.0.0"
!endif
!ifndef COMPRESSION
  !define COMPRESSION lzma
!endif

!if "${COMPRESSION}" == "zlib"
  SetCompressor zlib
!else
  SetCompressor /SOLID lzma
!endif

!define APP "Scopeflow"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\${APP}"
; Written into $INSTDIR: the folder is a Scopeflow installation, which an upgrade may empty.
!define MARKER "scopeflow-installation.txt"
!define PYTHON_TAG 312  ; python312.dll

!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

Name "${APP} ${VERSION}"
OutFile "${OUTFILE}"
RequestExecutionLevel user
InstallDir "$LOCALAPPDATA\Programs\${APP}"
; An upgrade goes where the previous version is.
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
ShowInstDetails show
ShowUninstDetails show
ManifestDPIAware true
BrandingText "${APP} ${VERSION}"

VIProductVersion "${VERSION4}"
VIFileVersion "${VERSION4}"
VIAddVersionKey "ProductName" "${APP}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${APP} ${VERSION} setup"
VIAddVersionKey "CompanyName" "${APP}"
VIAddVersionKey "LegalCopyright" "Copyright (C) ${APP} contributors, BSD-3-Clause license"

!define MUI_ICON "${ICON}"
!define MUI_UNICON "${ICON}"
!define MUI_ABORTWARNING
!define MUI_COMPONENTSPAGE_NODESC
!define MUI_FINISHPAGE_RUN "$INSTDIR\pythonw.exe"
!define MUI_FINISHPAGE_RUN_PARAMETERS "-m app"
!define MUI_FINISHPAGE_RUN_TEXT "Start ${APP}"

!insertmacro MUI_PAGE_WELCOME
!insertmacro MUI_PAGE_COMPONENTS
!define MUI_PAGE_CUSTOMFUNCTION_LEAVE CheckInstallFolderPage
!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH

!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_INSTFILES

!insertmacro MUI_LANGUAGE "English"

; ------------------------------------------------------------------ checks

; $0 = "" when $INSTDIR may be installed to, else the reason why not.
Function CheckInstallFolder
  StrCpy $0 ""
  IfFileExists "$INSTDIR\${MARKER}" done  ; an earlier Scopeflow: upgraded in place
  ${DirState} "$INSTDIR" $1  ; 0 empty, 1 not empty, -1 does not exist
  ${If} $1 == 1
    StrCpy $0 "$INSTDIR is not empty and holds no ${APP} installation. Choose an empty or new folder."
  ${EndIf}
  done:
FunctionEnd

Function CheckInstallFolderPage
  Call CheckInstallFolder
  ${If} $0 != ""
    MessageBox MB_OK|MB_ICONSTOP "$0" /SD IDOK
    Abort  ; stay on the directory page
  ${EndIf}
FunctionEnd

; Fails while a Scopeflow of this folder runs: Windows keeps a loaded DLL locked.
!macro CheckNotRunning
  ${If} ${FileExists} "$INSTDIR\python${PYTHON_TAG}.dll"
    ClearErrors
    FileOpen $2 "$INSTDIR\python${PYTHON_TAG}.dll" a
    ${If} ${Errors}
      MessageBox MB_OK|MB_ICONSTOP "${APP} is running from $INSTDIR. Close it, then try again." /SD IDOK
      SetErrorLevel 3
      Quit
    ${EndIf}
    FileClose $2
  ${EndIf}
!macroend

; What an installation puts directly in $INSTDIR, removed before an upgrade and by the
; uninstaller. Folders and patterns only inside $INSTDIR; nothing else is touched.
!macro RemoveProgramFiles
  RMDir /r "$INSTDIR\app"
  RMDir /r "$INSTDIR\Lib"
  RMDir /r "$INSTDIR\resources"
  RMDir /r "$INSTDIR\scripts"
  RMDir /r "$INSTDIR\DLLs"
  Delete "$INSTDIR\*.dll"
  Delete "$INSTDIR\*.pyd"
  Delete "$INSTDIR\python*.zip"
  Delete "$INSTDIR\python*._pth"
  Delete "$INSTDIR\python.exe"
  Delete "$INSTDIR\pythonw.exe"
  Delete "$INSTDIR\python.cat"
  Delete "$INSTDIR\LICENSE.txt"
!macroend

; ------------------------------------------------------------------ install

Section "${APP} (required)" SecProgram
  SectionIn RO
  SetShellVarContext current
  Call CheckInstallFolder
  ${If} $0 != ""
    MessageBox MB_OK|MB_ICONSTOP "$0" /SD IDOK
    SetErrorLevel 2
    Quit
  ${EndIf}
  !insertmacro CheckNotRunning

  ; An upgrade: the previous version's modules go first, so none is left stale.
  ${If} ${FileExists} "$INSTDIR\${MARKER}"
    DetailPrint "Removing the previous version from $INSTDIR"
    !insertmacro RemoveProgramFiles
  ${EndIf}

  SetOutPath "$INSTDIR"
  File /r "${BUNDLE}\*.*"
  FileOpen $1 "$INSTDIR\${MARKER}" w
  FileWrite $1 "${APP} ${VERSION}$\r$\nThis folder is a ${APP} installation: its uninstaller and upgrades remove the program files in it.$\r$\n"
  FileClose $1
  WriteUninstaller "$INSTDIR\uninstall.exe"

  ; Python writes bytecode caches on first import otherwise: do it now, once.
  DetailPrint "Compiling the Python modules..."
  nsExec::ExecToLog '"$INSTDIR\python.exe" -m compileall -q "$INSTDIR\app" "$INSTDIR\Lib\site-packages"'
  Pop $1

  SetOutPath "$INSTDIR"  ; the shortcuts' working folder
  CreateShortCut "$SMPROGRAMS\${APP}.lnk" "$INSTDIR\pythonw.exe" "-m app" \
    "$INSTDIR\resources\icon\scopeflow.ico" 0 SW_SHOWNORMAL "" "${APP} microscope acquisition"

  ; Add/Remove Programs (per user)
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${APP}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\resources\icon\scopeflow.ico"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $1 $2 $3
  IntFmt $1 "0x%08X" $1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" $1
SectionEnd

Section "Example scripts in Documents\${APP}\scripts" SecScripts
  SectionIn RO
  SetShellVarContext current
  ; The user's own files (and their edits of the examples) are kept.
  SetOverwrite off
  SetOutPath "$DOCUMENTS\${APP}\scripts"
  File "${BUNDLE}\scripts\*.py"
  SetOverwrite on
SectionEnd

Section /o "Desktop shortcut" SecDesktop
  SetShellVarContext current
  SetOutPath "$INSTDIR"
  CreateShortCut "$DESKTOP\${APP}.lnk" "$INSTDIR\pythonw.exe" "-m app" \
    "$INSTDIR\resources\icon\scopeflow.ico" 0 SW_SHOWNORMAL "" "${APP} microscope acquisition"
SectionEnd

Section "-Last"
  SetOutPath "$INSTDIR"  ; the working folder of "Start Scopeflow" on the finish page
SectionEnd

; ------------------------------------------------------------------ uninstall

Section "Uninstall"
  SetShellVarContext current
  !insertmacro CheckNotRunning
  Delete "$SMPROGRAMS\${APP}.lnk"
  Delete "$DESKTOP\${APP}.lnk"
  !insertmacro RemoveProgramFiles
  Delete "$INSTDIR\${MARKER}"
  Delete "$INSTDIR\uninstall.exe"
  RMDir "$INSTDIR"  ; only if empty: files someone else put there stay
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
  ; Kept: Documents\Scopeflow (scripts, data), %APPDATA%\Scopeflow (settings),
  ; %LOCALAPPDATA%\Scopeflow (logs): no file outside $INSTDIR but the shortcuts is removed.
SectionEnd
