// The Anthropic JS SDK under plain `node`, as a user's script would use it:
// the key and base URL from the environment, nothing about proxies.
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic();
const message = await client.messages.create({
  model: 'claude-sonnet-4-5',
  max_tokens: 64,
  messages: [{ role: 'user', content: 'ping from the JS SDK' }],
});
process.stdout.write(message.content.map((b) => b.text ?? '').join(''));
