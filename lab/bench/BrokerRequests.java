// Prints how many requests of each named type a local Kafka broker has served since it started:
//   java lab/bench/BrokerRequests.java PID Produce Fetch ...   ->   "Produce 1234" per line
// The broker's own RequestMetrics (kafka.network:type=RequestMetrics,name=RequestsPerSec,
// request=TYPE, one MBean per API version), read through the JVM attach API, so the broker
// needs no JMX port. Used by lab/bench/measure.py (broker_requests); Java 17 runs this source
// file directly.
import com.sun.tools.attach.VirtualMachine;
import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

public class BrokerRequests {
    public static void main(String[] args) throws Exception {
        VirtualMachine broker = VirtualMachine.attach(args[0]);
        String address = broker.startLocalManagementAgent();
        broker.detach();
        try (JMXConnector connector = JMXConnectorFactory.connect(new JMXServiceURL(address))) {
            MBeanServerConnection server = connector.getMBeanServerConnection();
            for (int i = 1; i < args.length; i++) {
                ObjectName pattern = new ObjectName(
                    "kafka.network:type=RequestMetrics,name=RequestsPerSec,request=" + args[i] + ",*");
                long total = 0;
                for (ObjectName name : server.queryNames(pattern, null)) {
                    total += ((Number) server.getAttribute(name, "Count")).longValue();
                }
                System.out.println(args[i] + " " + total);
            }
        }
    }
}
