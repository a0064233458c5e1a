namespace NexNet.TestHost;

/// <summary>The kernel's own high-water mark of this process's resident memory (VmHWM), in KiB.</summary>
internal static class ProcessMemory
{
    public static long PeakRssKib()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("no VmHWM in /proc/self/status");
    }
}
