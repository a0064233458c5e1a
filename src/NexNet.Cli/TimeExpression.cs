using System.Globalization;
using System.Text.RegularExpressions;

namespace NexNet.Cli;

/// <summary>
/// The moments <c>restore --at</c> and <c>mount --at</c> take: ISO 8601 ("2026-12-04", "2026-12-04T17:00",
/// "2026-12-04 17:00:00Z"; without an offset, local time), "now", "N units ago" (seconds, minutes, hours,
/// days, weeks; "2 hours ago", "90s ago"), and "today"/"yesterday" with an optional HH:MM[:SS]
/// ("yesterday 17:00"; alone, "yesterday" is 24 hours ago and "today" is the start of today).
/// </summary>
internal static partial class TimeExpression
{
    public static DateTimeOffset Parse(string text, DateTimeOffset now, TimeZoneInfo zone)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(zone);
        string t = text.Trim().ToLowerInvariant();
        if (t == "now")
        {
            return now;
        }

        if (Ago().Match(t) is { Success: true } ago)
        {
            double amount = double.Parse(ago.Groups["n"].Value, CultureInfo.InvariantCulture);
            TimeSpan unit = ago.Groups["unit"].Value switch
            {
                "s" or "sec" or "secs" or "second" or "seconds" => TimeSpan.FromSeconds(1),
                "m" or "min" or "mins" or "minute" or "minutes" => TimeSpan.FromMinutes(1),
                "h" or "hr" or "hrs" or "hour" or "hours" => TimeSpan.FromHours(1),
                "d" or "day" or "days" => TimeSpan.FromDays(1),
                _ => TimeSpan.FromDays(7),
            };
            return now - (unit * amount);
        }

        if (Day().Match(t) is { Success: true } day)
        {
            DateTime local = TimeZoneInfo.ConvertTime(now, zone).Date;
            if (day.Groups["day"].Value == "yesterday")
            {
                if (!day.Groups["time"].Success)
                {
                    return now - TimeSpan.FromDays(1);
                }

                local = local.AddDays(-1);
            }

            if (day.Groups["time"].Success)
            {
                if (!TimeSpan.TryParseExact(day.Groups["time"].Value, ["h\\:mm", "h\\:mm\\:ss"], CultureInfo.InvariantCulture, out TimeSpan clock) || clock >= TimeSpan.FromDays(1))
                {
                    throw Invalid(text);
                }

                local += clock;
            }

            return new DateTimeOffset(local, zone.GetUtcOffset(local));
        }

        if (DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces, out DateTimeOffset parsed)
            && IsoLike().IsMatch(text.Trim()))
        {
            bool hasOffset = OffsetSuffix().IsMatch(text.Trim());
            return hasOffset ? parsed : new DateTimeOffset(parsed.DateTime, zone.GetUtcOffset(parsed.DateTime));
        }

        throw Invalid(text);
    }

    private static CliException Invalid(string text) =>
        new($"\"{text}\" is not a time: give ISO 8601 (2026-12-04T17:00, local unless it ends in Z or an offset), \"now\", \"2 hours ago\", \"3 days ago\" or \"yesterday 17:00\"",
            ExitCodes.Usage);

    [GeneratedRegex(@"^(?<n>\d+(\.\d+)?)\s*(?<unit>s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\s+ago$")]
    private static partial Regex Ago();

    [GeneratedRegex(@"^(?<day>today|yesterday)(\s+(?<time>\d{1,2}:\d{2}(:\d{2})?))?$")]
    private static partial Regex Day();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$", RegexOptions.IgnoreCase)]
    private static partial Regex IsoLike();

    [GeneratedRegex(@"(Z|[+-]\d{2}:?\d{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex OffsetSuffix();
}
