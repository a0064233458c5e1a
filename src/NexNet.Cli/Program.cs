return await NexNet.Cli.CommandLine.RunAsync(args);
