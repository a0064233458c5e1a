<#
.SYNOPSIS
  Runs NexNet.Fs on Windows: builds the nexnet command once, starts the node with its WebDAV front end,
  and maps a drive letter to it with `net use` (the WebClient service; no driver to install).

.DESCRIPTION
  ./mount.ps1 [-Drive Z] [-Data DIR] [-Port 4780]
  Stop with Ctrl+C: the drive is unmapped and the node stopped. Works in PowerShell 7 and Windows
  PowerShell 5.1. On Linux and macOS use ./mount.sh (FUSE on Linux, mount_webdav on macOS).
#>
[CmdletBinding()]
param(
    [string]$Drive = 'Z',
    [string]$Data = '',
    [int]$Port = 4780,
    [switch]$Help
)

$ErrorActionPreference = 'Stop'
Set-Location -Path $PSScriptRoot

function Say([string]$Message) { Write-Host "mount.ps1: $Message" }
function Fail([string]$Message, [int]$Code) { [Console]::Error.WriteLine("mount.ps1: $Message"); exit $Code }

if ($Help) {
    Write-Host 'usage: ./mount.ps1 [-Drive Z] [-Data DIR] [-Port 4780]'
    Write-Host '  maps drive Z: to your NexNet volume over WebDAV (127.0.0.1 only, HTTPS, with the node''s WebDAV password)'
    Write-Host '  -Data DIR   the data directory (default: $env:NEXNET_DATA, else the nexnet default)'
    Write-Host '  stop with Ctrl+C: the drive is unmapped and the node stops'
    exit 0
}

if ($Drive -notmatch '^[A-Za-z]:?$') { Fail "-Drive takes one letter, e.g. -Drive Z (got '$Drive')" 64 }
$letter = $Drive.Substring(0, 1).ToUpperInvariant() + ':'
if ($Port -lt 1 -or $Port -gt 65535) { Fail "-Port must be between 1 and 65535 (got $Port)" 64 }

$onWindows = ($PSVersionTable.PSEdition -eq 'Desktop') -or $IsWindows
if (-not $onWindows) {
    Fail 'mount.ps1 is for Windows (it maps a drive letter over WebDAV); on Linux and macOS run ./mount.sh instead' 64
}

if (-not (Get-Command dotnet -ErrorAction SilentlyContinue) -or -not ((& dotnet --list-sdks) -match '^10\.')) {
    Fail 'the .NET 10 SDK is needed to build: https://dotnet.microsoft.com/download/dotnet/10.0 (or: winget install Microsoft.DotNet.SDK.10)' 69
}

$out = Join-Path $PSScriptRoot '.build\nexnet-win'
$exe = Join-Path $out 'nexnet.exe'
$stamp = Join-Path $PSScriptRoot '.build\nexnet-win.stamp'
$stale = -not (Test-Path $exe) -or -not (Test-Path $stamp) -or
    (Get-ChildItem -Path src, Directory.Build.props, Directory.Packages.props -Recurse -File | Where-Object { $_.LastWriteTime -gt (Get-Item $stamp).LastWriteTime } | Select-Object -First 1)
if ($stale) {
    Say 'building the nexnet command (Release, once; reused until the sources change)'
    & dotnet publish src/NexNet.Cli -c Release -o $out -nologo -clp:ErrorsOnly | Out-Null
    if ($LASTEXITCODE -ne 0) { Fail 'the build failed (see above)' 70 }
    New-Item -ItemType File -Force -Path $stamp | Out-Null
}

$service = Get-Service -Name WebClient -ErrorAction SilentlyContinue
if ($null -eq $service) { Fail 'the WebClient service is missing: add the "WebDAV Redirector" Windows feature, then run this again' 69 }
if ($service.Status -ne 'Running') {
    Say 'starting the WebClient service (Windows'' WebDAV client)'
    try { Start-Service WebClient } catch { Fail 'could not start the WebClient service: run once as administrator, or start it in services.msc' 69 }
}
Say 'note: WebClient refuses files over 50 MB by default; to raise the limit (as administrator):'
Say '  Set-ItemProperty HKLM:\SYSTEM\CurrentControlSet\Services\WebClient\Parameters FileSizeLimitInBytes 4294967295; Restart-Service WebClient'

$dataArgs = @()
if ($Data -ne '') { $dataArgs = @('--data', $Data) }
# HTTPS even on 127.0.0.1: Windows' WebDAV client sends a password only over TLS (BasicAuthLevel 1).
$node = Start-Process -FilePath $exe -ArgumentList (@('node', '--webdav', "127.0.0.1:$Port", '--webdav-https') + $dataArgs) -PassThru -NoNewWindow
try {
    $report = $null
    for ($i = 0; $i -lt 600 -and -not $report; $i++) {
        if ($node.HasExited) { Fail "the node stopped (exit code $($node.ExitCode)); see its messages above" $node.ExitCode }
        Start-Sleep -Milliseconds 100
        $status = & $exe status --json @dataArgs 2>$null
        if ($LASTEXITCODE -eq 0) { $report = $status | ConvertFrom-Json }
    }
    if (-not $report -or -not $report.webdav) { Fail 'the node did not come up within 60 s' 69 }
    $url = $report.webdav

    # The node's self-signed certificate, trusted for this user only (Windows asks once to confirm).
    $pfx = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new([System.IO.File]::ReadAllBytes((Join-Path $report.dataDirectory 'webdav.pfx')))
    $certificate = [System.Security.Cryptography.X509Certificates.X509Certificate2]::new($pfx.Export('Cert'))
    $store = [System.Security.Cryptography.X509Certificates.X509Store]::new('Root', 'CurrentUser')
    $store.Open('ReadWrite')
    if ($store.Certificates.Find('FindByThumbprint', $certificate.Thumbprint, $false).Count -eq 0) {
        Say 'trusting the node''s WebDAV certificate for this user (confirm in the dialog Windows shows)'
        $store.Add($certificate)
    }
    $store.Close()

    # The password reaches the drive mapping as a credential object, never a command line (net use /user:
    # would put it where every process on the machine can read it).
    $secret = (Get-Content -Raw -Path (Join-Path $report.dataDirectory 'webdav.password')).Trim()
    $credential = [System.Management.Automation.PSCredential]::new('nexnet', (ConvertTo-SecureString -String $secret -AsPlainText -Force))
    $root = "\\127.0.0.1@SSL@$(([Uri]$url).Port)\DavWWWRoot"
    try { New-PSDrive -Name $letter.Substring(0, 1) -PSProvider FileSystem -Root $root -Credential $credential -Persist -Scope Global | Out-Null }
    catch { Fail "could not map $letter to the node ($($_.Exception.Message)): is the letter free? (net use $letter /delete frees it)" 69 }
    Say "mapped $letter to your NexNet volume ($url)"
    Say "stop with Ctrl+C: $letter is unmapped and the node stops"
    Wait-Process -Id $node.Id
}
finally {
    & net use $letter /delete /y 2>$null | Out-Null
    if (-not $node.HasExited) { Stop-Process -Id $node.Id }
    Say "unmapped $letter"
}
