using NexNet.Cli;

namespace NexNet.UnitTests.Cli;

/// <summary>The moments <c>restore --at</c> and <c>mount --at</c> take, against a fixed now in a zone with an offset.</summary>
public sealed class TimeExpressionTests
{
    private static readonly TimeZoneInfo s_zone = TimeZoneInfo.CreateCustomTimeZone("test+02", TimeSpan.FromHours(2), "test+02", "test+02");

    private static readonly DateTimeOffset s_now = new(2026, 12, 6, 10, 30, 0, TimeSpan.Zero); // 12:30 in the zone

    [Theory]
    [InlineData("now", "2026-12-06T10:30:00Z")]
    [InlineData("2 hours ago", "2026-12-06T08:30:00Z")]
    [InlineData("90s ago", "2026-12-06T10:28:30Z")]
    [InlineData("3 days ago", "2026-12-03T10:30:00Z")]
    [InlineData("1 week ago", "2026-11-29T10:30:00Z")]
    [InlineData("1.5 h ago", "2026-12-06T09:00:00Z")]
    [InlineData("yesterday", "2026-12-05T10:30:00Z")]
    [InlineData("yesterday 17:00", "2026-12-05T15:00:00Z")]
    [InlineData("today 09:15:30", "2026-12-06T07:15:30Z")]
    [InlineData("today", "2026-12-05T22:00:00Z")]
    [InlineData("2026-12-04", "2026-12-03T22:00:00Z")]
    [InlineData("2026-12-04T17:00", "2026-12-04T15:00:00Z")]
    [InlineData("2026-12-04 17:00:00Z", "2026-12-04T17:00:00Z")]
    [InlineData("2026-12-04T17:00:00.250+05:00", "2026-12-04T12:00:00.25Z")]
    public void Each_form_names_the_moment_it_says(string text, string expected)
    {
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), TimeExpression.Parse(text, s_now, s_zone));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("2 fortnights ago")]
    [InlineData("yesterday 25:00")]
    [InlineData("12/04/2026")]
    [InlineData("")]
    public void Anything_else_is_refused_with_the_forms_it_takes(string text)
    {
        CliException e = Assert.Throws<CliException>(() => TimeExpression.Parse(text, s_now, s_zone));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
        Assert.Contains("2 hours ago", e.Message, StringComparison.Ordinal);
    }
}
